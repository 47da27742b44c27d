// The changes between two snapshots of a root filesystem, as a layer records them: paths added
// or changed (written in full), and deletions as whiteouts. A deleted directory is one whiteout
// (not one per entry below it); a path whose type changed is whited out and written again, which
// the image spec allows in one layer (a whiteout hides only lower layers).
import type { EntryState, Snapshot } from "./snapshot.ts";

export interface Changes {
  /** Paths to write from the after-tree, sorted so parents come before children. */
  readonly written: readonly string[];
  /** Paths to hide from lower layers (`dir/.wh.name`), sorted. */
  readonly deleted: readonly string[];
}

function same(a: EntryState, b: EntryState): boolean {
  return (
    a.type === b.type &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.linkname === b.linkname &&
    a.inode === b.inode
  );
}

const parentOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf("/")));

export function diffSnapshots(before: Snapshot, after: Snapshot): Changes {
  const written: string[] = [];
  const deleted: string[] = [];
  for (const [path, state] of after) {
    const old = before.get(path);
    if (old === undefined) {
      written.push(path);
    } else if (old.type !== state.type) {
      deleted.push(path);
      written.push(path);
    } else if (!same(old, state)) {
      // A directory that only gained or lost entries changes its mtime; it is written so its
      // mode and owner are right, its entries only when they changed themselves.
      written.push(path);
    }
  }
  const gone = new Set<string>();
  for (const path of before.keys()) {
    if (after.has(path)) continue;
    gone.add(path);
  }
  for (const path of gone) {
    // Covered by a whiteout of a deleted (or replaced) ancestor.
    let parent = parentOf(path);
    let covered = false;
    while (parent !== "") {
      if (
        gone.has(parent) ||
        (before.get(parent)?.type === "directory" && after.get(parent)?.type !== "directory")
      ) {
        covered = true;
        break;
      }
      parent = parentOf(parent);
    }
    if (!covered) deleted.push(path);
  }
  const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { written: written.sort(byPath), deleted: [...new Set(deleted)].sort(byPath) };
}
