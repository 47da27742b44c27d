// Signing a manifest where it is stored: a Sigstore bundle over its digest attached as a referrer
// (the registry's referrers API, else its `sha256-<hex>` fallback tag, or a layout's index), and
// on request cosign's legacy `sha256-<hex>.sig` signature too. An image, an index or a disk
// artifact is signed the same way: the digest is the digest.
import { parseManifest, MediaType } from "../oci/index.ts";
import type { Endpoint, ReferrerIndexing } from "../remote/index.ts";
import {
  blobOf,
  bundleReferrer,
  COSIGN_SIGNATURE_ANNOTATION,
  legacyManifest,
  legacySignatureTag,
  type LegacyLayer,
  type SignatureArtifact,
  type SubjectDescriptor,
} from "./artifacts.ts";
import { createBundle } from "./bundle.ts";
import { isNotFound, storeArtifact } from "./endpoint-io.ts";
import { SignError } from "./errors.ts";
import type { SigningKey } from "./keys.ts";
import { signPayload, simpleSigningPayload } from "./simple-signing.ts";

export interface SignOptions {
  /** How the image is named (`registry/repo:tag`), recorded in the signature. */
  readonly reference?: string;
  /** The repository (`registry/repo`) a legacy signature names; default: the endpoint's name. */
  readonly repository?: string;
  /** Also write cosign's legacy tag-based signature. */
  readonly legacy?: boolean;
  /** The signing time (default: now). */
  readonly now?: Date;
}

export interface SignResult {
  readonly digest: string;
  readonly mediaType: string;
  readonly keyId: string;
  readonly signedAt: string;
  /** The bundle referrer: its manifest digest and how the endpoint indexed it. */
  readonly bundle: { readonly digest: string; readonly indexed: ReferrerIndexing };
  /** The legacy signature manifest, when asked for. */
  readonly legacy?: { readonly tag: string; readonly digest: string; readonly signatures: number };
}

/** Refuses a key past its not-after date. */
export function assertKeyCanSign(key: SigningKey, at: Date): void {
  if (key.notAfter !== undefined && at.getTime() > key.notAfter.getTime())
    throw new SignError(
      "KEY_EXPIRED",
      `Key ${key.keyId} expired at ${key.notAfter.toISOString()} (its not-after date): it signs nothing after it; sign with a newer key`,
    );
}

/**
 * The bundle referrer for `subject`, ready to push (the builder's and the gallery's way in: with
 * `remote`'s `pushReferrer` or an endpoint's `putManifest` + `attachReferrer`).
 */
export function signatureReferrer(
  subject: SubjectDescriptor,
  key: SigningKey,
  options: { reference?: string; now?: Date } = {},
): SignatureArtifact {
  const now = options.now ?? new Date();
  assertKeyCanSign(key, now);
  const bundle = createBundle(
    key,
    { digest: subject.digest, ...(options.reference === undefined ? {} : { reference: options.reference }) },
    now,
  );
  return bundleReferrer(subject, bundle, now);
}

/** Stores `artifact` (a signature or any referrer of `subject`) and makes it findable as one. */
export async function attachReferrer(
  endpoint: Endpoint,
  subject: SubjectDescriptor,
  artifact: SignatureArtifact,
): Promise<ReferrerIndexing> {
  await storeArtifact(endpoint, artifact);
  return endpoint.attachReferrer(subject.digest, {
    mediaType: artifact.mediaType,
    digest: artifact.digest,
    size: artifact.manifest.length,
    artifactType: artifact.artifactType,
  });
}

/** The legacy `.sig` manifest's layers so far (none when the tag does not exist). */
async function legacyLayers(endpoint: Endpoint, tag: string): Promise<LegacyLayer[]> {
  let digest: string;
  try {
    digest = (await endpoint.resolve(tag)).digest;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const manifest = parseManifest(await endpoint.readManifest(digest));
  if (manifest.kind !== "manifest")
    throw new SignError("SIGNATURE_INVALID", `${endpoint.name}:${tag} is an index, not a signature manifest`);
  return manifest.layers.map((l) => ({
    mediaType: l.mediaType,
    digest: l.digest,
    size: l.size,
    annotations: l.annotations ?? {},
  }));
}

/** Appends a legacy signature of `subject` to its `.sig` tag. */
async function signLegacy(
  endpoint: Endpoint,
  subject: SubjectDescriptor,
  key: SigningKey,
  repository: string,
  now: Date,
): Promise<{ tag: string; digest: string; signatures: number }> {
  const tag = legacySignatureTag(subject.digest);
  const payload = blobOf(
    MediaType.CosignSimpleSigning,
    simpleSigningPayload(subject.digest, repository, now),
  );
  const signature = signPayload(payload.bytes, key).toString("base64");
  const layers = [
    ...(await legacyLayers(endpoint, tag)),
    {
      mediaType: payload.mediaType,
      digest: payload.digest,
      size: payload.size,
      annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature },
    },
  ];
  const artifact = legacyManifest(layers, now);
  await storeArtifact(endpoint, { ...artifact, blobs: [payload, ...artifact.blobs] }, tag);
  return { tag, digest: artifact.digest, signatures: layers.length };
}

/**
 * Signs the manifest `reference` (a tag or digest) names at `endpoint` with `key`: refuses a key
 * past its not-after date, attaches the bundle, and with `legacy` appends cosign's legacy
 * signature.
 */
export async function signImage(
  endpoint: Endpoint,
  reference: string,
  key: SigningKey,
  options: SignOptions = {},
): Promise<SignResult> {
  const now = options.now ?? new Date();
  assertKeyCanSign(key, now);
  const entry = await endpoint.resolve(reference);
  const subject = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
  const artifact = signatureReferrer(subject, key, {
    now,
    ...(options.reference === undefined ? {} : { reference: options.reference }),
  });
  const indexed = await attachReferrer(endpoint, subject, artifact);
  const legacy =
    options.legacy === true
      ? await signLegacy(endpoint, subject, key, options.repository ?? endpoint.name, now)
      : undefined;
  return {
    digest: entry.digest,
    mediaType: entry.mediaType,
    keyId: key.keyId,
    signedAt: now.toISOString(),
    bundle: { digest: artifact.digest, indexed },
    ...(legacy === undefined ? {} : { legacy }),
  };
}
