// The diff stored as an OCI referrer of the newer image: an image manifest with artifactType
// application/vnd.strata.diff.v1+json, the empty config, one layer holding the diff's JSON, the
// newer image as subject and the older image's digest in an annotation — so the gallery finds the
// changelog of a version through the referrers API and copies carry it like any referrer.
// Pure: bytes and digests, nothing written.
import { createHash } from "node:crypto";
import { MediaType } from "../oci/index.ts";
import type { ImageDiff } from "./diff-images.ts";

export const DIFF_ARTIFACT_TYPE = "application/vnd.strata.diff.v1+json";
/** The annotation naming the image the diff is taken against (the older version). */
export const DIFF_BASE_ANNOTATION = "dev.strata.diff.base.digest";
/** The annotation naming the older image's reference as given (e.g. its version). */
export const DIFF_BASE_NAME_ANNOTATION = "dev.strata.diff.base.name";

const EMPTY_CONFIG = Buffer.from("{}");

export interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

export interface DiffReferrer {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string;
  readonly manifest: Buffer;
  /** The empty config, then the diff's JSON. */
  readonly blobs: readonly Blob[];
}

const blobOf = (mediaType: string, bytes: Buffer): Blob => ({
  mediaType,
  digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
  size: bytes.length,
  bytes,
});

/**
 * The referrer carrying `diff`, with `subject` the newer image's manifest (its descriptor as
 * stored: media type, digest, size).
 */
export function diffReferrer(
  diff: ImageDiff,
  subject: { readonly mediaType: string; readonly digest: string; readonly size: number },
  options: { readonly created?: Date } = {},
): DiffReferrer {
  const config = blobOf(MediaType.Empty, EMPTY_CONFIG);
  const body = blobOf(DIFF_ARTIFACT_TYPE, Buffer.from(JSON.stringify(diff)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: DIFF_ARTIFACT_TYPE,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: [{ mediaType: body.mediaType, digest: body.digest, size: body.size }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        [DIFF_BASE_ANNOTATION]: diff.before.digest,
        [DIFF_BASE_NAME_ANNOTATION]: diff.before.name,
        "org.opencontainers.image.created": (options.created ?? new Date()).toISOString(),
      },
    }),
  );
  return {
    digest: `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
    mediaType: MediaType.ImageManifest,
    artifactType: DIFF_ARTIFACT_TYPE,
    manifest,
    blobs: [config, body],
  };
}
