// The file diff: two flattened trees → paths added, removed and changed (content, size, mode,
// owner, type, link target), sorted by path, with exact totals however many are listed. A hard
// link counts as a file with its target's content: which of two linked paths a layer stored
// first is no change. Modification times are not compared: rebuilds change them all.
import type { FileEntry, FileTree, FileType } from "./file-tree.ts";

export type FileChangeKind = "content" | "size" | "mode" | "owner" | "type" | "target";

/** A path's state as the diff shows it. */
export interface FileInfo {
  readonly path: string;
  readonly type: FileType;
  readonly size: number;
  /** Octal permission bits, e.g. "0644", "4755". */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly sha256?: string;
  /** A symlink's or hard link's target. */
  readonly target?: string;
}

export interface FileChange {
  readonly path: string;
  readonly changes: readonly FileChangeKind[];
  readonly before: Omit<FileInfo, "path">;
  readonly after: Omit<FileInfo, "path">;
}

export interface FileTotals {
  readonly added: { readonly count: number; readonly bytes: number };
  readonly removed: { readonly count: number; readonly bytes: number };
  readonly changed: { readonly count: number; readonly bytesBefore: number; readonly bytesAfter: number };
  /** Bytes of regular files after minus before, over the whole tree (hard links count 0). */
  readonly sizeDelta: number;
}

export interface FileDiff {
  readonly added: readonly FileInfo[];
  readonly removed: readonly FileInfo[];
  readonly changed: readonly FileChange[];
  readonly totals: FileTotals;
  /** How many of each were left out of the lists by the cap (0 when all are listed). */
  readonly omitted: { readonly added: number; readonly removed: number; readonly changed: number };
}

const octal = (mode: number): string => mode.toString(8).padStart(4, "0");
/** Bytes a path takes as content: a regular file's size; a hard link shares its target's. */
const bytesOf = (e: FileEntry): number => (e.type === "file" ? e.size : 0);
const kindOf = (t: FileType): string => (t === "hardlink" ? "file" : t);

function info(entry: FileEntry): Omit<FileInfo, "path"> {
  return {
    type: entry.type,
    size: entry.size,
    mode: octal(entry.mode),
    uid: entry.uid,
    gid: entry.gid,
    ...(entry.sha256 === undefined ? {} : { sha256: entry.sha256 }),
    ...(entry.linkTarget === undefined || entry.type === "hardlink" ? {} : { target: entry.linkTarget }),
  };
}

function changesOf(a: FileEntry, b: FileEntry): FileChangeKind[] {
  const out: FileChangeKind[] = [];
  if (kindOf(a.type) !== kindOf(b.type)) out.push("type");
  if (kindOf(a.type) === "file" && kindOf(b.type) === "file") {
    if (a.sha256 !== undefined && b.sha256 !== undefined && a.sha256 !== b.sha256) out.push("content");
  }
  if (a.size !== b.size && kindOf(a.type) === kindOf(b.type)) out.push("size");
  if (a.mode !== b.mode) out.push("mode");
  if (a.uid !== b.uid || a.gid !== b.gid) out.push("owner");
  if (a.type === "symlink" && b.type === "symlink" && a.linkTarget !== b.linkTarget) out.push("target");
  if ((a.type === "char" || a.type === "block") && a.type === b.type && a.device !== b.device)
    out.push("target");
  return out;
}

/** What changed from `before` to `after`; each list holds at most `maxFiles` paths. */
export function diffFiles(before: FileTree, after: FileTree, maxFiles = Infinity): FileDiff {
  const added: FileInfo[] = [];
  const removed: FileInfo[] = [];
  const changed: FileChange[] = [];
  let addedBytes = 0;
  let removedBytes = 0;
  let changedBefore = 0;
  let changedAfter = 0;
  let addedCount = 0;
  let removedCount = 0;
  let changedCount = 0;
  let total = 0;
  const paths = [...new Set([...before.paths(), ...after.paths()])].sort();
  for (const path of paths) {
    const a = before.get(path);
    const b = after.get(path);
    if (a !== undefined) total -= bytesOf(a);
    if (b !== undefined) total += bytesOf(b);
    const shown = `/${path}`;
    if (a === undefined && b !== undefined) {
      addedCount++;
      addedBytes += bytesOf(b);
      if (added.length < maxFiles) added.push({ path: shown, ...info(b) });
    } else if (b === undefined && a !== undefined) {
      removedCount++;
      removedBytes += bytesOf(a);
      if (removed.length < maxFiles) removed.push({ path: shown, ...info(a) });
    } else if (a !== undefined && b !== undefined) {
      const changes = changesOf(a, b);
      if (changes.length === 0) continue;
      changedCount++;
      changedBefore += bytesOf(a);
      changedAfter += bytesOf(b);
      if (changed.length < maxFiles) changed.push({ path: shown, changes, before: info(a), after: info(b) });
    }
  }
  return {
    added,
    removed,
    changed,
    totals: {
      added: { count: addedCount, bytes: addedBytes },
      removed: { count: removedCount, bytes: removedBytes },
      changed: { count: changedCount, bytesBefore: changedBefore, bytesAfter: changedAfter },
      sizeDelta: total,
    },
    omitted: {
      added: addedCount - added.length,
      removed: removedCount - removed.length,
      changed: changedCount - changed.length,
    },
  };
}
