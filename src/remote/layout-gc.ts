// What an OCI layout holds and what it can let go: blobs reachable from its tags (manifests,
// configs, layers, the manifests an index lists) and from untagged entries that refer to nothing
// (what other tools write for an image without a tag), plus the referrers of every reachable
// manifest, recursively. A referrer whose subject is gone is dropped from index.json with its
// blobs. Nothing else in the layout is touched: blobs/ALG/HEX only.
import { lstat, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isDigest, parseManifest, type Manifest } from "../oci/index.ts";
import { blobPath, readIndex, REF_NAME, SUBJECT_ANNOTATION, writeIndex, type Entry } from "./layout.ts";

export interface LayoutBlob {
  readonly digest: string;
  readonly size: number;
  /** When the file was last written (ms since 1970). */
  readonly mtimeMs: number;
}

/** Every blob file of the layout (blobs/ALG/HEX) with its size on disk. */
export async function layoutBlobs(dir: string): Promise<LayoutBlob[]> {
  const out: LayoutBlob[] = [];
  for (const algorithm of await readdir(join(dir, "blobs")).catch(() => [] as string[])) {
    for (const hex of await readdir(join(dir, "blobs", algorithm)).catch(() => [] as string[])) {
      const digest = `${algorithm}:${hex}`;
      if (!isDigest(digest)) continue; // a temporary file of a write in progress
      const info = await lstat(join(dir, "blobs", algorithm, hex)).catch(() => undefined);
      if (info?.isFile() === true) out.push({ digest, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return out;
}

async function manifestAt(dir: string, entry: Entry): Promise<Manifest | undefined> {
  const bytes = await readFile(blobPath(dir, entry.digest)).catch(() => undefined);
  if (bytes === undefined) return undefined;
  try {
    return parseManifest(bytes, entry.mediaType);
  } catch {
    return undefined;
  }
}

/** The subject an untagged index entry refers to, if it is a referrer. */
async function subjectOf(dir: string, entry: Entry): Promise<string | undefined> {
  return entry.annotations?.[SUBJECT_ANNOTATION] ?? (await manifestAt(dir, entry))?.subject?.digest;
}

export interface Reachability {
  /** Every blob digest reachable, manifests included. */
  readonly blobs: Set<string>;
  /** index.json's entries without the referrers whose subject is unreachable. */
  readonly entries: readonly Entry[];
}

/**
 * What the layout's entries reach. `without` leaves out tags (as if removed), so a caller can
 * tell what removing them frees.
 */
export async function reachable(dir: string, without: readonly string[] = []): Promise<Reachability> {
  const index = await readIndex(dir);
  const entries = index.manifests.filter((m) => !without.includes(m.annotations?.[REF_NAME] ?? "\0"));
  const referrersOf = new Map<string, Entry[]>();
  const roots: Entry[] = [];
  for (const entry of entries) {
    const subject = entry.annotations?.[REF_NAME] === undefined ? await subjectOf(dir, entry) : undefined;
    if (subject === undefined) roots.push(entry);
    else referrersOf.set(subject, [...(referrersOf.get(subject) ?? []), entry]);
  }
  const blobs = new Set<string>();
  const walk = async (entry: Entry): Promise<void> => {
    if (blobs.has(entry.digest)) return;
    blobs.add(entry.digest);
    const manifest = await manifestAt(dir, entry);
    if (manifest?.kind === "index") for (const child of manifest.manifests) await walk(child);
    else if (manifest !== undefined)
      for (const blob of [manifest.config, ...manifest.layers]) blobs.add(blob.digest);
    for (const referrer of referrersOf.get(entry.digest) ?? []) await walk(referrer);
  };
  for (const root of roots) await walk(root);
  return {
    blobs,
    entries: entries.filter((e) => blobs.has(e.digest)),
  };
}

export interface PruneReport {
  readonly removed: readonly LayoutBlob[];
  readonly bytes: number;
}

/**
 * Removes `tags` (none: only prunes), then every blob nothing reachable names — except those in
 * `keep` (blobs something outside the layout uses) — and index entries of referrers whose
 * subject went. With `only`, removes just those blobs among the unreachable ones; with
 * `writtenBefore`, only blobs written before that time (a pull in progress writes its blobs
 * before the tag that reaches them).
 */
export async function pruneLayout(
  dir: string,
  options: {
    tags?: readonly string[];
    keep?: ReadonlySet<string>;
    only?: ReadonlySet<string>;
    writtenBefore?: number;
    dryRun?: boolean;
  } = {},
): Promise<PruneReport> {
  const index = await readIndex(dir);
  const after = await reachable(dir, options.tags ?? []);
  const removed = (await layoutBlobs(dir)).filter(
    (b) =>
      !after.blobs.has(b.digest) &&
      options.keep?.has(b.digest) !== true &&
      (options.only === undefined || options.only.has(b.digest)) &&
      (options.writtenBefore === undefined || b.mtimeMs < options.writtenBefore),
  );
  if (options.dryRun !== true) {
    if (after.entries.length !== index.manifests.length) await writeIndex(dir, after.entries);
    for (const blob of removed) await rm(blobPath(dir, blob.digest), { force: true });
  }
  return { removed, bytes: removed.reduce((sum, b) => sum + b.size, 0) };
}
