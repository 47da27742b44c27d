// Everything a version brings to a site: its manifest, the child manifests of an index, configs,
// layers, a chunked disk's parts and chunks, and every referrer of any of them (signatures,
// SBOMs, provenance, computed changes) with what those reach, read from the metadata of the
// version's repository.
import { isIndex, type Digest } from "../oci/index.ts";
import type { GalleryAccess } from "../gallery/index.ts";

export interface VersionGraph {
  /** Manifests (the version's, children, referrers) with their sizes. */
  readonly manifests: ReadonlyMap<Digest, number>;
  /** Blobs with their sizes (a blob stored nowhere here counts 0). */
  readonly blobs: ReadonlyMap<Digest, number>;
}

/** Manifests followed at most, against a hostile or broken graph. */
const MAX_MANIFESTS = 100_000;

export async function versionGraph(
  access: GalleryAccess,
  repository: string,
  top: Digest,
): Promise<VersionGraph> {
  const manifests = new Map<Digest, number>();
  const blobDigests = new Set<Digest>();
  const queue: Digest[] = [top];
  while (queue.length > 0 && manifests.size < MAX_MANIFESTS) {
    const digest = queue.pop() as Digest;
    if (manifests.has(digest)) continue;
    const record = await access.meta.manifests.get(repository, digest);
    // A child the repository does not hold (a partial index) is not sent.
    if (record === undefined) continue;
    manifests.set(digest, record.size);
    if (isIndex(record.mediaType)) queue.push(...record.references);
    else for (const blob of record.references) blobDigests.add(blob);
    for (const referrer of await access.meta.manifests.referrers(repository, digest))
      queue.push(referrer.digest);
  }
  for (const digest of manifests.keys()) blobDigests.delete(digest);
  const blobs = new Map<Digest, number>();
  for (const link of await access.meta.blobs.getMany(repository, [...blobDigests]))
    blobs.set(link.digest, link.size);
  for (const digest of blobDigests) {
    if (blobs.has(digest)) continue;
    blobs.set(digest, (await access.blobs.stat(digest))?.size ?? 0);
  }
  return { manifests, blobs };
}
