// Verifying a manifest's signatures where it is stored: every Sigstore bundle referrer of its
// digest and every layer of its legacy `sha256-<hex>.sig` manifest, each checked against the
// trusted keys (check.ts) and reported. The image is verified when at least one signature is
// valid — as cosign's verify — and every other signature is still reported with its reason.
import { MediaType, parseManifest } from "../oci/index.ts";
import type { Endpoint } from "../remote/index.ts";
import { COSIGN_SIGNATURE_ANNOTATION, legacySignatureTag } from "./artifacts.ts";
import { MAX_BUNDLE_SIZE } from "./bundle.ts";
import { checkBundle, checkLegacy, type CheckedSubject, type SignatureCheck } from "./check.ts";
import { isNotFound, readSmallBlob } from "./endpoint-io.ts";
import { SignError } from "./errors.ts";
import type { TrustedKey } from "./keys.ts";

export interface VerifyOptions {
  /** Look for cosign's legacy `.sig` signatures too (default true). */
  readonly legacy?: boolean;
  /** The time not-after dates and future signing times are judged at (default: now). */
  readonly now?: Date;
}

export interface VerifyResult {
  readonly digest: string;
  readonly mediaType: string;
  /** At least one signature is valid. */
  readonly verified: boolean;
  readonly signatures: readonly SignatureCheck[];
}

/** Largest legacy payload read (cosign's is a few hundred bytes). */
const MAX_PAYLOAD_SIZE = 64 * 1024;

const malformed = (format: "bundle" | "legacy", source: string, problem: string): SignatureCheck => ({
  format,
  source,
  status: "malformed",
  valid: false,
  covers: {},
  problem,
});

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** One bundle referrer: its manifest's shape, then its bundle. */
async function checkReferrer(
  endpoint: Endpoint,
  digest: string,
  subject: CheckedSubject,
  keys: readonly TrustedKey[],
  now: Date,
): Promise<SignatureCheck> {
  let manifest;
  try {
    manifest = parseManifest(await endpoint.readManifest(digest));
  } catch (error) {
    return malformed("bundle", digest, `its manifest cannot be read: ${reason(error)}`);
  }
  if (manifest.kind !== "manifest")
    return malformed("bundle", digest, "it is an index, not a signature manifest");
  if (manifest.subject?.digest !== subject.digest)
    return malformed(
      "bundle",
      digest,
      `its subject is ${manifest.subject?.digest ?? "missing"}, not ${subject.digest}`,
    );
  const [layer, ...more] = manifest.layers;
  if (layer === undefined || more.length > 0)
    return malformed("bundle", digest, `it has ${manifest.layers.length} layers, not one bundle`);
  if (layer.mediaType !== MediaType.SigstoreBundle)
    return malformed(
      "bundle",
      digest,
      `its layer's media type "${layer.mediaType}" is not ${MediaType.SigstoreBundle}`,
    );
  let bytes: Buffer;
  try {
    bytes = await readSmallBlob(endpoint, layer, MAX_BUNDLE_SIZE);
  } catch (error) {
    if (error instanceof SignError) return malformed("bundle", digest, error.message);
    throw error;
  }
  return checkBundle(bytes, digest, subject, keys, now);
}

/** Every layer of the legacy `.sig` manifest, none when the tag does not exist. */
async function checkLegacyTag(
  endpoint: Endpoint,
  subject: CheckedSubject,
  keys: readonly TrustedKey[],
  now: Date,
): Promise<SignatureCheck[]> {
  const tag = legacySignatureTag(subject.digest);
  let found;
  try {
    found = await endpoint.resolve(tag);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  let manifest;
  try {
    manifest = parseManifest(await endpoint.readManifest(found.digest));
  } catch (error) {
    return [malformed("legacy", tag, `its manifest cannot be read: ${reason(error)}`)];
  }
  if (manifest.kind !== "manifest")
    return [malformed("legacy", tag, "it is an index, not a signature manifest")];
  const checks: SignatureCheck[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    const source = `${tag} layer ${i}`;
    if (layer.mediaType !== MediaType.CosignSimpleSigning) {
      checks.push(
        malformed(
          "legacy",
          source,
          `its media type "${layer.mediaType}" is not ${MediaType.CosignSimpleSigning}`,
        ),
      );
      continue;
    }
    try {
      const payload = await readSmallBlob(endpoint, layer, MAX_PAYLOAD_SIZE);
      checks.push(
        checkLegacy(payload, layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION], source, subject, keys, now),
      );
    } catch (error) {
      if (!(error instanceof SignError)) throw error;
      checks.push(malformed("legacy", source, error.message));
    }
  }
  return checks;
}

/** Verifies the signatures of the manifest `reference` names at `endpoint` against `keys`. */
export async function verifyImage(
  endpoint: Endpoint,
  reference: string,
  keys: readonly TrustedKey[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (keys.length === 0)
    throw new SignError("ARGUMENT_INVALID", "No key to verify with: give at least one public key");
  const now = options.now ?? new Date();
  const entry = await endpoint.resolve(reference);
  const subject: CheckedSubject = {
    digest: entry.digest,
    manifest: await endpoint.readManifest(entry.digest),
  };
  const signatures: SignatureCheck[] = [];
  for (const referrer of await endpoint.referrers(entry.digest))
    if (referrer.artifactType === MediaType.SigstoreBundle)
      signatures.push(await checkReferrer(endpoint, referrer.digest, subject, keys, now));
  if (options.legacy !== false) signatures.push(...(await checkLegacyTag(endpoint, subject, keys, now)));
  return {
    digest: entry.digest,
    mediaType: entry.mediaType,
    verified: signatures.some((s) => s.valid),
    signatures,
  };
}
