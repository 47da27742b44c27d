// The bytes of a version: total, the sum of the sizes of every distinct blob reachable from its
// manifest (the manifest, the child manifests of an index, configs, layers, a chunked disk's
// chunk and index blobs); shared, the part of it also reachable from another version (of any
// gallery and definition, copies of the same digest included); own = total − shared, roughly
// what purging the version would let garbage collection free.
//
// Computed from the metadata without walking other versions: the version's own graph is read
// down from its manifest in its repository (manifest rows, blob link sizes); then its digests
// are followed up through the manifests naming them (a chunk → its part manifests → the disk
// indexes naming those parts), a level per query batch, and a digest is shared when it, or a
// manifest above it, is the digest another version pins. Content is addressed by digest, so what
// a manifest names is the same in every repository: holders are read across all of them.
import { isIndex, type Digest } from "../oci/index.ts";
import type { GalleryContext } from "./context.ts";
import type { VersionsTable } from "./db/schema.ts";
import type { VersionBytes } from "./model.ts";
import { versionsPinning } from "./version-rows.ts";

/** Levels of nested manifests followed, down and up. */
const MAX_DEPTH = 8;
/** A digest named by more manifests than this has its holders set aside (see sharedDigests). */
const MANY_HOLDERS = 64;
/** Holders of such a digest climbed at a time. */
const CLIMB_LIST = 500;

export interface VersionBytesOptions {
  /** A digest named by more manifests than this has its holders set aside (default 64). */
  readonly manyHolders?: number;
  /** The version's reachable digests and sizes, when the caller read them already. */
  readonly sizes?: ReadonlyMap<Digest, number>;
}

export async function versionBytes(
  ctx: GalleryContext,
  row: VersionsTable,
  options: VersionBytesOptions = {},
): Promise<VersionBytes> {
  const sizes =
    options.sizes ?? (await reachableSizes(ctx, `${row.gallery}/${row.image}`, row.digest as Digest));
  const shared = await sharedDigests(ctx, row, [...sizes.keys()], options.manyHolders ?? MANY_HOLDERS);
  let total = 0;
  let sharedBytes = 0;
  for (const [digest, size] of sizes) {
    total += size;
    if (shared.has(digest)) sharedBytes += size;
  }
  return { total, own: total - sharedBytes, shared: sharedBytes };
}

/** Every digest reachable from `top` in `repository`, with its size. */
export async function reachableSizes(
  ctx: GalleryContext,
  repository: string,
  top: Digest,
): Promise<Map<Digest, number>> {
  const sizes = new Map<Digest, number>();
  const blobs = new Set<Digest>();
  let level: Digest[] = [top];
  for (let depth = 0; level.length > 0 && depth <= MAX_DEPTH; depth++) {
    const next: Digest[] = [];
    for (const digest of level) {
      if (sizes.has(digest)) continue;
      const record = await ctx.meta.manifests.get(repository, digest);
      // A child the repository does not hold (a partial index) holds no bytes here.
      if (record === undefined) continue;
      sizes.set(digest, record.size);
      if (isIndex(record.mediaType)) next.push(...record.references);
      else for (const blob of record.references) blobs.add(blob);
    }
    level = next;
  }
  const unsized = new Set([...blobs].filter((digest) => !sizes.has(digest)));
  for (const link of await ctx.meta.blobs.getMany(repository, [...unsized])) {
    sizes.set(link.digest, link.size);
    unsized.delete(link.digest);
  }
  // Not linked here (content copied in before its links were): the pool knows its size. A
  // foreign layer, stored nowhere, counts nothing.
  for (const digest of unsized) {
    const info = await ctx.blobs.stat(digest);
    if (info !== undefined) sizes.set(digest, info.size);
  }
  return sizes;
}

/**
 * The digests among `digests` (the version's) that another version reaches too: the graph of
 * the manifests above them is climbed level by level, and a digest is shared when it or a
 * manifest above it is pinned by another version.
 *
 * A digest that many manifests name (the empty config every chunked disk manifest names, a part
 * unchanged across many versions) would drag every one of them, and the manifests above them,
 * into the climb. Its holders are set aside instead: once the rest of the graph is known, it is
 * often shared through one of the version's own manifests already; only when it is not are its
 * holders climbed, a list at a time, until one reaches another version.
 */
async function sharedDigests(
  ctx: GalleryContext,
  row: VersionsTable,
  digests: readonly Digest[],
  manyHolders: number,
): Promise<Set<Digest>> {
  const isSelf = (v: { gallery: string; image: string; version: string }) =>
    v.gallery === row.gallery && v.image === row.image && v.version === row.version;
  const pinnedByOther = new Set<string>();
  /** Digest → the manifests of the graph naming it. */
  const parents = new Map<string, Set<string>>();
  /** Digests in the graph: the version's and the manifests above them climbed so far. */
  const seen = new Set<string>(digests);
  /** Digests named by many manifests → those of their holders not yet in the graph. */
  const setAside = new Map<string, string[]>();
  const link = (digest: string, manifest: string): void => {
    const above = parents.get(digest);
    if (above === undefined) parents.set(digest, new Set([manifest]));
    else above.add(manifest);
  };
  /** Whether another version reaches `digest`, by the graph known so far. */
  const reaches = (digest: string, memo = new Map<string, boolean>()): boolean => {
    const known = memo.get(digest);
    if (known !== undefined) return known;
    memo.set(digest, false);
    const result =
      pinnedByOther.has(digest) || [...(parents.get(digest) ?? [])].some((above) => reaches(above, memo));
    memo.set(digest, result);
    return result;
  };

  async function climb(start: readonly string[]): Promise<void> {
    let frontier = [...start];
    for (let depth = 0; frontier.length > 0 && depth <= MAX_DEPTH; depth++) {
      for (const version of await versionsPinning(ctx.db, frontier))
        if (!isSelf(version)) pinnedByOther.add(version.digest);
      // Everything below a digest another version pins is shared: no need to climb above it.
      const open = frontier.filter((digest) => !pinnedByOther.has(digest)) as Digest[];
      const holders = new Map<string, string[]>();
      for (const { manifest, digest } of await ctx.meta.references.holders(open)) {
        const list = holders.get(digest);
        if (list === undefined) holders.set(digest, [manifest]);
        else list.push(manifest);
      }
      const next: string[] = [];
      for (const [digest, manifests] of holders) {
        const fresh = manifests.filter((manifest) => !seen.has(manifest));
        for (const manifest of manifests) if (seen.has(manifest)) link(digest, manifest);
        if (fresh.length > manyHolders) {
          setAside.set(digest, fresh);
          continue;
        }
        for (const manifest of fresh) {
          link(digest, manifest);
          seen.add(manifest);
          next.push(manifest);
        }
      }
      frontier = next;
    }
  }

  /** Climbs a set-aside digest's holders, a list at a time, until another version reaches it. */
  async function settle(digest: string): Promise<void> {
    const holders = setAside.get(digest);
    if (holders === undefined) return;
    setAside.delete(digest);
    for (const manifest of holders) if (seen.has(manifest)) link(digest, manifest);
    const rest = holders.filter((manifest) => !seen.has(manifest));
    for (let i = 0; i < rest.length && !reaches(digest); i += CLIMB_LIST) {
      const list: string[] = [];
      for (const manifest of rest.slice(i, i + CLIMB_LIST)) {
        link(digest, manifest);
        if (seen.has(manifest)) continue;
        seen.add(manifest);
        list.push(manifest);
      }
      await climb(list);
      // What that climb set aside may be what reaches this digest.
      for (const other of [...setAside.keys()]) {
        if (reaches(digest)) break;
        await settle(other);
      }
    }
  }

  await climb(digests);
  for (const [digest] of setAside) await settle(digest);
  const memo = new Map<string, boolean>();
  return new Set(digests.filter((digest) => reaches(digest, memo)));
}
