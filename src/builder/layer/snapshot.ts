// A snapshot of a root filesystem: every path below the root with what a layer records of it
// (type, mode, owner, size, modification time, link target, inode). Symlinks are never
// followed. Two snapshots, before and after a step, give the step's changes (diff.ts).
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../errors.ts";

export type EntryType = "file" | "directory" | "symlink" | "fifo";

export interface EntryState {
  readonly type: EntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Modification time in nanoseconds (as a string: bigint is not JSON). */
  readonly mtimeNs: string;
  readonly linkname?: string;
  /** `dev:ino`, to find hard links. */
  readonly inode: string;
  readonly nlink: number;
}

/** Paths relative to the root, `/`-separated, without a leading slash; sorted. */
export type Snapshot = ReadonlyMap<string, EntryState>;

function typeOf(stats: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
}): EntryType | undefined {
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "directory";
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isFIFO()) return "fifo";
  return undefined;
}

export async function snapshotTree(
  root: string,
  options: { exclude?: (path: string) => boolean } = {},
): Promise<Snapshot> {
  const out = new Map<string, EntryState>();
  async function walk(relative: string): Promise<void> {
    const names = (await readdir(join(root, relative))).sort();
    for (const name of names) {
      const path = relative === "" ? name : `${relative}/${name}`;
      if (options.exclude?.(path) === true) continue;
      const full = join(root, path);
      const stats = await lstat(full, { bigint: true });
      const type = typeOf(stats);
      if (type === undefined) {
        if (stats.isSocket()) continue; // sockets are runtime state, never layer content
        throw new BuildError(`"${path}" is a device file; layers cannot carry devices`);
      }
      out.set(path, {
        type,
        mode: Number(stats.mode & 0o7777n),
        uid: Number(stats.uid),
        gid: Number(stats.gid),
        size: type === "file" ? Number(stats.size) : 0,
        mtimeNs: String(stats.mtimeNs),
        ...(type === "symlink" ? { linkname: await readlink(full) } : {}),
        inode: `${stats.dev}:${stats.ino}`,
        nlink: Number(stats.nlink),
      });
      if (type === "directory") await walk(path);
    }
  }
  await walk("");
  return out;
}
