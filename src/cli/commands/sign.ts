// `strata sign REF` and `strata verify REF`: Sigstore bundle signatures over a manifest digest,
// stored as referrers the way cosign v3 stores them (and with --legacy, cosign's `.sig` tag), in
// a registry (a name with a registry), an OCI layout (oci-layout:PATH:TAG) or the local store (a
// name without one); verification reports every signature found (docs/supply-chain.md).
import type { Command } from "commander";
import type { SignatureCheck, TrustedKey, VerifyResult } from "../../sign/index.ts";
import { clientFor } from "../api-client.ts";
import { localPlace, registryPlace, type Place } from "../endpoints.ts";
import { CliError, usageError } from "../errors.ts";
import { parseImageLocation, type ImageRef } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson, printTable } from "../output.ts";
import { signingKeyOf, trustedKeyOf, withSignErrors } from "../sign-keys.ts";

/** Where REF is: its registry when it names one, else the layout or the local store. */
async function placeOf(ref: ImageRef, io: CliIo, insecure: boolean): Promise<Place> {
  if (ref.kind === "name" && ref.reference.registry !== undefined)
    return registryPlace(ref, io.env, insecure, "image reference");
  return localPlace(ref, io.env);
}

/** The repository a legacy signature names: `registry/repository`, as cosign writes it. */
const repositoryOf = (ref: ImageRef): string | undefined =>
  ref.kind === "name" && ref.reference.registry !== undefined
    ? `${ref.reference.registry}/${ref.reference.repository}`
    : undefined;

const short = (digest: string | undefined): string | undefined =>
  digest?.startsWith("sha256:") === true ? digest.slice(0, 19) : digest;

function printChecks(io: CliIo, name: string, result: VerifyResult): void {
  const valid = result.signatures.filter((s) => s.valid).length;
  io.stdout.write(
    `${result.verified ? "Verified" : "Not verified:"} ${name} ${result.digest} (${valid} of ${result.signatures.length} signatures valid)\n`,
  );
  if (result.signatures.length === 0) return;
  printTable<SignatureCheck>(
    io,
    [
      ["STATUS", (s) => s.status],
      ["FORMAT", (s) => s.format],
      ["SOURCE", (s) => short(s.source)],
      ["KEY ID", (s) => s.keyId?.slice(0, 16)],
      ["KEY", (s) => s.keyName],
      ["SIGNED AT", (s) => s.signedAt],
      ["COVERS", (s) => [short(s.covers.digest), s.covers.reference].filter(Boolean).join(" ") || undefined],
    ],
    result.signatures,
  );
  for (const s of result.signatures)
    if (s.problem !== undefined) io.stdout.write(`${s.format} ${short(s.source) ?? ""}: ${s.problem}\n`);
}

export function registerSign(program: Command, io: CliIo): void {
  program
    .command("sign <image>")
    .description(
      "Sign an image, index or disk: a Sigstore bundle over its digest attached as a referrer, as cosign v3 stores it (passphrase from STRATA_KEY_PASSWORD, COSIGN_PASSWORD or standard input)",
    )
    .option("--key <name|file>", "a kept key's name or a private key file", "default")
    .option("--legacy", "also write cosign's tag-based signature (sha256-<hex>.sig) for older verifiers")
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--json", "print what was signed and stored as JSON")
    .action((text: string, flags: { key: string; legacy?: boolean; insecure?: boolean; json?: boolean }) =>
      withSignErrors(async () => {
        const { signImage } = await import("../../sign/index.ts");
        const ref = parseImageLocation(text, "image reference");
        const repository = repositoryOf(ref);
        if (flags.legacy === true && ref.kind === "name" && repository === undefined)
          throw usageError(
            `Cannot write a legacy signature in the local store: it is a tag in a registry or layout; sign REGISTRY/${text} or oci-layout:PATH:TAG`,
          );
        const key = await signingKeyOf(io, flags.key);
        const place = await placeOf(ref, io, flags.insecure === true);
        const result = await signImage(place.endpoint, place.reference, key, {
          reference: ref.kind === "name" ? ref.local : ref.text,
          legacy: flags.legacy === true,
          ...(repository === undefined ? {} : { repository }),
        });
        if (flags.json === true) {
          printJson(io, { name: place.name, ...result });
          return;
        }
        io.stdout.write(
          `Signed ${place.name} ${result.digest} with key ${result.keyId.slice(0, 16)}: bundle ${result.bundle.digest} (via ${result.bundle.indexed})\n`,
        );
        if (result.legacy !== undefined)
          io.stdout.write(
            `  legacy signature: tag ${result.legacy.tag} (${result.legacy.signatures} signatures)\n`,
          );
      }),
    );

  program
    .command("verify <image>")
    .description(
      "Verify an image's signatures against public keys: every bundle referrer and legacy signature of its digest, with key id, time and what it covers; exits 1 unless one is valid",
    )
    .option(
      "--key <name|file>",
      "a trusted public key: a kept key's name or a PEM file (repeatable)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      "--gallery [name]",
      "also trust the keys a Strata server's gallery trusts (default: the repository's first component)",
    )
    .option(
      "--server <url>",
      "the Strata server --gallery asks (default $STRATA_SERVER, else the image's registry)",
    )
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--json", "print the verification result as JSON")
    .action(
      (
        text: string,
        flags: {
          key?: string[];
          gallery?: string | true;
          server?: string;
          insecure?: boolean;
          json?: boolean;
        },
      ) =>
        withSignErrors(async () => {
          const { verifyImage } = await import("../../sign/index.ts");
          const ref = parseImageLocation(text, "image reference");
          if (flags.key === undefined && flags.gallery === undefined)
            throw usageError("Missing --key or --gallery: name the keys a signature must be made with");
          const keys = await Promise.all((flags.key ?? []).map((k) => trustedKeyOf(io.env, k)));
          if (flags.gallery !== undefined)
            keys.push(...(await galleryKeys(ref, flags.gallery, flags.server, io)));
          const place = await placeOf(ref, io, flags.insecure === true);
          const result = await verifyImage(place.endpoint, place.reference, keys, {
            // The local store keeps no `.sig` tags (they are registry and layout tags).
            legacy: ref.kind === "layout" || repositoryOf(ref) !== undefined,
          });
          if (flags.json === true) printJson(io, { name: place.name, ...result });
          else printChecks(io, place.name, result);
          if (!result.verified)
            throw new CliError(
              result.signatures.length === 0
                ? `${place.name} (${result.digest}) is not signed`
                : `No valid signature on ${place.name} (${result.digest}) by the given keys`,
            );
        }),
    );
}

/** The public keys a server's gallery trusts (GET /api/v1/galleries/NAME/keys). */
async function galleryKeys(
  ref: ImageRef,
  gallery: string | true,
  server: string | undefined,
  io: CliIo,
): Promise<TrustedKey[]> {
  const { readPublicKey } = await import("../../sign/index.ts");
  const named = ref.kind === "name" ? ref.reference : undefined;
  const name = gallery === true ? named?.repository.split("/")[0] : gallery;
  if (name === undefined || name === "")
    throw usageError(
      "--gallery: name the gallery (it is the first component of a registry reference's repository)",
    );
  const url =
    server ??
    io.env.STRATA_SERVER ??
    (named?.registry === undefined ? undefined : `http://${named.registry}`);
  const api = await clientFor(url === undefined ? {} : { server: url }, io.env);
  const answer = await api.call("GET", `/galleries/${encodeURIComponent(name)}/keys`);
  const body = answer.body as { keys: { keyId: string; publicKey: string; notAfter?: string }[] };
  if (body.keys.length === 0) throw new CliError(`Gallery "${name}" on ${api.server} trusts no keys`);
  return body.keys.map((k) =>
    readPublicKey(k.publicKey, {
      name: `gallery ${name}`,
      ...(k.notAfter === undefined ? {} : { notAfter: new Date(k.notAfter) }),
    }),
  );
}
