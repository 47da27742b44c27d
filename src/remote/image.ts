// Images and artifacts from local files to a registry: pushing an image's blobs and manifest, and
// pushing an artifact that refers to an image (a referrer). Pulls go through copy.ts.
import type { Reference } from "../oci/index.ts";
import type { BytesProgress, RegistryClient } from "./client.ts";
import { addToFallbackTag } from "./referrers.ts";

/** The tag or digest a reference names (a digest wins; `latest` when neither). */
export const referenceTarget = (ref: Reference): string => ref.digest ?? ref.tag ?? "latest";

export interface PushBlob {
  readonly digest: string;
  readonly size: number;
  readonly path?: string;
  readonly bytes?: Buffer;
}

/** What a push did with each blob. */
export type PushEvent = (digest: string, size: number, outcome: "exists" | "pushed") => void;

/**
 * Pushes blobs (skipping those the repository has), then the manifest under `reference` (a tag,
 * or the manifest's digest for an untagged manifest).
 */
export async function pushManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  manifest: { bytes: Buffer; mediaType: string },
  blobs: readonly PushBlob[],
  options: { progress?: BytesProgress; onBlob?: PushEvent } = {},
): Promise<void> {
  for (const blob of blobs) {
    const sent = await client.putBlob(repository, blob, options.progress);
    options.onBlob?.(blob.digest, blob.size, sent ? "pushed" : "exists");
  }
  await client.putManifest(repository, reference, manifest.bytes, manifest.mediaType);
}

export interface ReferrerPush {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly artifactType: string;
  readonly blobs: readonly PushBlob[];
}

/**
 * Pushes an artifact that names `subject` (its manifest carries the subject field). A registry
 * without the referrers API (no OCI-Subject header in its answer) gets the fallback the
 * distribution spec describes: the tag `sha256-<subject hex>` holds an index of the referrers,
 * updated here (referrers.ts).
 */
export async function pushReferrer(
  client: RegistryClient,
  repository: string,
  subject: { digest: string },
  referrer: ReferrerPush,
): Promise<{ indexed: "api" | "tag" }> {
  for (const blob of referrer.blobs) await client.putBlob(repository, blob);
  const headers = await client.putManifest(
    repository,
    referrer.digest,
    referrer.manifest,
    referrer.mediaType,
  );
  if (headers.get("oci-subject") !== null) return { indexed: "api" };
  await addToFallbackTag(client, repository, subject.digest, {
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.manifest.length,
    artifactType: referrer.artifactType,
  });
  return { indexed: "tag" };
}
