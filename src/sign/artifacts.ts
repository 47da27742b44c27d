// The OCI objects signatures are stored in, as cosign v3 writes them.
// - The bundle referrer: an image manifest with artifactType `application/vnd.dev.sigstore.bundle
//   .v0.3+json`, the empty config (`{}`, `application/vnd.oci.empty.v1+json`), one layer holding
//   the bundle JSON under that same media type, `subject` the signed manifest, and cosign's
//   annotations (`dev.sigstore.bundle.content`, `dev.sigstore.bundle.predicateType`,
//   `org.opencontainers.image.created`).
// - The legacy signature (cosign's specs/SIGNATURE_SPEC.md): an image manifest under the tag
//   `sha256-<hex>.sig` whose layers are simple-signing payloads, each with its base64 signature
//   in the annotation `dev.cosignproject.cosign/signature`; a new signature is appended.
import { createHash } from "node:crypto";
import { digestOf, MediaType, parseDigest } from "../oci/index.ts";
import { COSIGN_SIGN_PREDICATE } from "./bundle.ts";

export const BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content";
export const BUNDLE_PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType";
export const CREATED_ANNOTATION = "org.opencontainers.image.created";
export const COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";

/** A blob of an artifact, with its bytes. */
export interface ArtifactBlob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

/**
 * A manifest to store and the blobs it names (same shape as the builder's provenance referrer,
 * so `remote`'s `pushReferrer` takes it as it is).
 */
export interface SignatureArtifact {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly artifactType: string;
  readonly blobs: readonly ArtifactBlob[];
}

/** The manifest a signature names as its subject. */
export interface SubjectDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export const blobOf = (mediaType: string, bytes: Buffer): ArtifactBlob => ({
  mediaType,
  digest: digestOf(bytes),
  size: bytes.length,
  bytes,
});

const descriptor = (b: ArtifactBlob): { mediaType: string; size: number; digest: string } => ({
  mediaType: b.mediaType,
  size: b.size,
  digest: b.digest,
});

/** RFC 3339 to the second, as cosign writes `org.opencontainers.image.created`. */
export const rfc3339 = (at: Date): string => `${at.toISOString().slice(0, 19)}Z`;

/** The referrer holding `bundle` (its JSON bytes) for `subject`. */
export function bundleReferrer(subject: SubjectDescriptor, bundle: Buffer, created: Date): SignatureArtifact {
  const empty = blobOf(MediaType.Empty, Buffer.from("{}"));
  const layer = blobOf(MediaType.SigstoreBundle, bundle);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { ...descriptor(empty), artifactType: MediaType.SigstoreBundle },
      layers: [descriptor(layer)],
      annotations: {
        [BUNDLE_CONTENT_ANNOTATION]: "dsse-envelope",
        [BUNDLE_PREDICATE_ANNOTATION]: COSIGN_SIGN_PREDICATE,
        [CREATED_ANNOTATION]: rfc3339(created),
      },
      subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
      artifactType: MediaType.SigstoreBundle,
    }),
  );
  return {
    digest: digestOf(manifest),
    manifest,
    mediaType: MediaType.ImageManifest,
    artifactType: MediaType.SigstoreBundle,
    blobs: [layer, empty],
  };
}

/** The tag cosign keeps a digest's legacy signatures under: `sha256-<hex>.sig`. */
export const legacySignatureTag = (digest: string): string => `${parseDigest(digest).replace(":", "-")}.sig`;

/** One signature of the legacy manifest: the payload's descriptor and its base64 signature. */
export interface LegacyLayer {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * The `.sig` manifest holding `layers` (earlier signatures, kept as they were, then the new one),
 * with an image config listing them as go-containerregistry's empty image does, so tools that
 * read it as an image find a valid one.
 */
export function legacyManifest(
  layers: readonly LegacyLayer[],
  created: Date,
): SignatureArtifact & { config: ArtifactBlob } {
  const config = blobOf(
    MediaType.ImageConfig,
    Buffer.from(
      JSON.stringify({
        architecture: "",
        created: rfc3339(created),
        history: layers.map(() => ({ created: "0001-01-01T00:00:00Z" })),
        os: "",
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
        config: {},
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: descriptor(config),
      layers: layers.map((l) => ({
        mediaType: l.mediaType,
        size: l.size,
        digest: l.digest,
        annotations: l.annotations,
      })),
    }),
  );
  return {
    digest: digestOf(manifest),
    manifest,
    mediaType: MediaType.ImageManifest,
    artifactType: MediaType.ImageConfig,
    blobs: [config],
    config,
  };
}

/** sha256 hex of bytes. */
export const sha256Hex = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
