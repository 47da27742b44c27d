// `strata pull`, `push` and `copy`: images moved between registries, OCI layouts and the local
// image store with their referrers (signatures, SBOMs, provenance), byte for byte, so digests
// stay. `pull` takes one platform of a multi-platform image (this machine's unless --platform
// names another); `copy` takes everything unless --platform narrows it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { CopyResult } from "../../remote/index.ts";
import { localPlace, registryPlace, type Place } from "../endpoints.ts";
import { usageError } from "../errors.ts";
import { parseImageLocation } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson } from "../output.ts";
import { hostPlatform, parsePlatform, type Platform } from "../platform.ts";
import { createProgress } from "../progress.ts";

interface TransferFlags {
  platform?: string;
  insecure?: boolean;
  referrers?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const ONGOING = { Pulled: "Pulling", Pushed: "Pushing", Copied: "Copying" } as const;

/** Copies `from` to `to`, printing a line per blob and one summary line (or JSON, or the digest). */
async function transfer(
  io: CliIo,
  verb: "Pulled" | "Pushed" | "Copied",
  from: Place,
  to: Place,
  flags: TransferFlags,
  platform: Platform | undefined,
): Promise<void> {
  const { copyImage } = await import("../../remote/index.ts");
  const quiet = flags.json === true || flags.quiet === true;
  const progress = createProgress(io, quiet);
  const scratch = await mkdtemp(join(tmpdir(), "strata-copy-"));
  let result: CopyResult;
  try {
    progress.line(`${ONGOING[verb]} ${from.name}${from.name === to.name ? "" : ` to ${to.name}`}`);
    result = await copyImage(from.endpoint, from.reference, to.endpoint, {
      ...(to.tag === undefined ? {} : { tag: to.tag }),
      ...(platform === undefined ? {} : { platform }),
      referrers: flags.referrers !== false,
      scratch,
      onBlob: (digest, size, outcome) =>
        progress.line(`  ${digest.slice(0, 19)} ${outcome === "exists" ? "exists" : `copied ${size} bytes`}`),
    });
  } finally {
    progress.done();
    await rm(scratch, { recursive: true, force: true });
  }
  for (const r of result.referrers)
    progress.line(
      `  referrer ${r.digest.slice(0, 19)} (${r.artifactType ?? "no artifact type"}) via ${r.indexed}`,
    );
  if (flags.json === true) printJson(io, { from: from.name, to: to.name, ...result });
  else if (flags.quiet === true) io.stdout.write(`${result.digest}\n`);
  else
    io.stdout.write(
      `${verb} ${from.name}${from.name === to.name ? "" : ` to ${to.name}`} ${result.digest} (${result.blobs.copied} blobs copied, ${result.blobs.existed} present, ${result.referrers.length} referrers)\n`,
    );
}

const platformOf = (flags: TransferFlags): Platform | undefined =>
  flags.platform === undefined ? undefined : parsePlatform(flags.platform);

export function registerTransfer(program: Command, io: CliIo): void {
  const common = (command: Command): Command =>
    command
      .option("--insecure", "plain HTTP to registries that are not on loopback")
      .option("--no-referrers", "leave referrers (signatures, SBOMs, provenance) behind")
      .option("-q, --quiet", "print only the digest")
      .option("--json", "print a JSON summary");

  common(
    program
      .command("pull <image>")
      .description("Pull an image from its registry into the local store, with its referrers")
      .option("--platform <os/arch>", "the platform of a multi-platform image (default this machine's)"),
  ).action(async (text: string, flags: TransferFlags) => {
    const ref = parseImageLocation(text, "image");
    if (ref.kind === "layout")
      throw usageError(
        `Cannot pull "${text}": pull takes a registry reference; strata copy ${text} NAME copies a layout`,
      );
    const from = await registryPlace(ref, io.env, flags.insecure === true, "image");
    // Kept under its full reference, a digest reference included, so `strata run` finds it.
    const to = { ...(await localPlace(ref, io.env)), tag: ref.local };
    await transfer(io, "Pulled", from, to, flags, platformOf(flags) ?? hostPlatform());
  });

  common(
    program
      .command("push <image> [destination]")
      .description(
        "Push an image of the local store to its registry (or to DESTINATION), with its referrers",
      ),
  ).action(async (text: string, destination: string | undefined, flags: TransferFlags) => {
    const ref = parseImageLocation(text, "image");
    const target = destination === undefined ? ref : parseImageLocation(destination, "destination");
    if (target.kind === "layout")
      throw usageError(`Cannot push to "${target.text}": strata copy ${text} ${target.text} writes a layout`);
    const to = await registryPlace(
      target,
      io.env,
      flags.insecure === true,
      destination === undefined ? "image" : "destination",
    );
    await transfer(io, "Pushed", await localPlace(ref, io.env), to, flags, undefined);
  });

  common(
    program
      .command("copy <source> <destination>")
      .description(
        "Copy an image or artifact with its referrers between registries (REGISTRY/REPO[:TAG]), OCI layouts (oci-layout:PATH:TAG) and the local store (a name without a registry)",
      )
      .option("--platform <os/arch>", "copy only this platform's image of a multi-platform one"),
  ).action(async (sourceText: string, destinationText: string, flags: TransferFlags) => {
    const place = async (text: string, what: string): Promise<Place> => {
      const ref = parseImageLocation(text, what);
      return ref.kind === "name" && ref.reference.registry !== undefined
        ? registryPlace(ref, io.env, flags.insecure === true, what)
        : localPlace(ref, io.env);
    };
    const from = await place(sourceText, "source");
    const to = await place(destinationText, "destination");
    await transfer(io, "Copied", from, to, flags, platformOf(flags));
  });
}
