// What a purged version frees in its repository, the reverse of copyInto: its manifest unless a
// version, a tag or another manifest of the repository still names it; then, level by level, the
// child manifests of a deleted index that nothing left in the repository names; then the links
// of the blobs the deleted manifests named (configs, layers, a chunked disk's chunk and index
// blobs) that no manifest left in the repository references. Garbage collection then reclaims
// whatever no other repository links or names; other repositories are never touched.
//
// The store decides each delete under the commit lock of the digests, so a push or a publish
// that names one of them at the same moment either keeps it (its claim or its row is seen) or
// comes after and finds it gone.
import { isIndex, type Digest } from "../oci/index.ts";
import type { ManifestRecord } from "../store/index.ts";
import type { GalleryContext } from "./context.ts";
import { versionsPinning } from "./version-rows.ts";

/** Levels of nested indexes followed, as copyInto does. */
const MAX_DEPTH = 8;

export interface Released {
  /** Manifests deleted from the repository. */
  readonly manifests: number;
  /** Blob links removed from the repository. */
  readonly blobs: number;
}

/** Frees what `digest` (a manifest of `repository`, the version's) alone used there. */
export async function releaseContent(
  ctx: GalleryContext,
  repository: string,
  digest: Digest,
): Promise<Released> {
  const [gallery = "", image = ""] = repository.split("/");
  // Claims carry the wall-clock time they expire at, not the gallery's clock.
  const at = new Date();
  const blobs: Digest[] = [];
  let manifests = 0;
  let candidates: Digest[] = [digest];
  for (let depth = 0; candidates.length > 0 && depth <= MAX_DEPTH; depth++) {
    // A manifest a version of the repository pins (a platform manifest published on its own,
    // or a deleted version that can still be restored) stays with everything it names.
    const pinned = new Set(
      (await versionsPinning(ctx.db, candidates, { gallery, image })).map((v) => v.digest),
    );
    const records = new Map<string, ManifestRecord>();
    for (const candidate of candidates) {
      if (pinned.has(candidate)) continue;
      const record = await ctx.meta.manifests.get(repository, candidate);
      if (record !== undefined) records.set(candidate, record);
    }
    const deleted = await ctx.meta.manifests.deleteUnreferenced(
      repository,
      [...records.keys()] as Digest[],
      at,
    );
    manifests += deleted.length;
    const next = new Set<Digest>();
    for (const gone of deleted) {
      const record = records.get(gone);
      if (record === undefined) continue;
      if (isIndex(record.mediaType)) for (const child of record.references) next.add(child);
      else blobs.push(...record.references);
    }
    candidates = [...next];
  }
  const unlinked = await ctx.meta.blobs.unlinkUnreferenced(repository, blobs, at);
  return { manifests, blobs: unlinked.length };
}
