// The root file system: ext4 written straight from the root tree by `mke2fs -d` into the disk
// file at the partition's offset — no mount, no loop device, no root privileges beyond reading
// the tree. Reproducible: the UUID and the directory hash seed come from the caller, mke2fs's
// own clock is fixed (E2FSPROGS_FAKE_TIME), and since `mke2fs -d` copies each file's atime and
// ctime from the tree (which reading it changes), every used inode's atime and ctime are set to
// the epoch afterwards with debugfs. `e2fsck -fn` checks the result.
import { lstat, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DiskError } from "./errors.ts";
import { tool } from "./tools.ts";

export const BLOCK = 4096;
const MiB = 2 ** 20;

export interface TreeUsage {
  /** Bytes the tree takes in 4 KiB blocks. */
  readonly bytes: number;
  readonly inodes: number;
}

/** What the tree needs: its files' data in whole blocks, and one inode per entry. */
export async function treeUsage(root: string): Promise<TreeUsage> {
  let bytes = 0;
  let inodes = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const stats = await lstat(path);
      inodes++;
      if (stats.isFile() || stats.isDirectory() || stats.isSymbolicLink())
        bytes += Math.ceil(stats.size / BLOCK) * BLOCK;
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return { bytes, inodes };
}

/**
 * File system sizes for a tree: the least it fits in (its data plus a tenth, an inode each and
 * the journal), and the default, which adds a quarter and 256 MiB of headroom for the machine.
 */
export function fileSystemSize(usage: TreeUsage, headroom = true): number {
  const need = headroom
    ? usage.bytes * 1.25 + usage.inodes * 512 + 64 * MiB + 256 * MiB
    : usage.bytes * 1.1 + usage.inodes * 512 + 64 * MiB;
  return Math.ceil(need / MiB) * MiB;
}

export interface Ext4Options {
  /** The disk file, and where in it the file system starts and how long it is (bytes). */
  readonly disk: string;
  readonly offset: number;
  readonly size: number;
  readonly uuid: string;
  readonly label: string;
  readonly epoch: number;
  readonly inodes: number;
  /** A folder for the tool's scratch files. */
  readonly scratch: string;
}

export async function writeExt4(tree: string, options: Ext4Options): Promise<void> {
  if (options.offset % BLOCK !== 0 || options.size % BLOCK !== 0)
    throw new DiskError("USAGE", "the file system must start and end on 4 KiB boundaries");
  const env = { E2FSPROGS_FAKE_TIME: String(options.epoch) };
  const inodes = Math.max(65_536, Math.ceil(options.inodes * 1.5));
  await tool(
    "mke2fs",
    [
      "-q",
      "-F",
      "-t",
      "ext4",
      "-b",
      String(BLOCK),
      "-I",
      "256",
      "-N",
      String(inodes),
      "-L",
      options.label,
      "-U",
      options.uuid,
      "-E",
      `hash_seed=${options.uuid},lazy_itable_init=0,lazy_journal_init=0,nodiscard,offset=${options.offset}`,
      "-d",
      tree,
      options.disk,
      String(options.size / BLOCK),
    ],
    { env },
  );
  const device = `${options.disk}?offset=${options.offset}`;
  await normalizeTimes(device, options.epoch, env, options.scratch);
  await tool("e2fsck", ["-fn", device], { env }).catch((error: Error) => {
    throw new DiskError("TOOL_FAILED", `the new file system does not check clean: ${error.message}`);
  });
}

/** Used inodes of the file system, from dumpe2fs's free-inode ranges per group. */
export function usedInodes(dumpe2fs: string): number[] {
  const perGroup = /Inodes per group:\s+(\d+)/.exec(dumpe2fs);
  if (perGroup === null) throw new DiskError("TOOL_FAILED", "dumpe2fs gave no inodes per group");
  const ipg = Number(perGroup[1]);
  const used: number[] = [];
  const groups = dumpe2fs.matchAll(/^Group (\d+):[^\n]*\n(?:[^\n]*\n)*?\s+Free inodes: ([^\n]*)$/gm);
  for (const [, group, free] of groups) {
    const first = Number(group) * ipg + 1;
    const freeSet = new Set<number>();
    for (const range of (free ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r !== "")) {
      const [a, b] = range.split("-").map(Number);
      for (let i = a ?? 0; i <= (b ?? a ?? 0); i++) freeSet.add(i);
    }
    for (let i = first; i < first + ipg; i++) if (!freeSet.has(i)) used.push(i);
  }
  return used;
}

async function normalizeTimes(
  device: string,
  epoch: number,
  env: Record<string, string>,
  scratch: string,
): Promise<void> {
  const used = usedInodes(await tool("dumpe2fs", [device], { env }));
  const script = used.flatMap((i) => [`sif <${i}> atime @${epoch}`, `sif <${i}> ctime @${epoch}`]).join("\n");
  const file = join(scratch, "times.debugfs");
  await writeFile(file, `${script}\n`);
  try {
    await tool("debugfs", ["-w", "-f", file, device], { env });
  } finally {
    await rm(file, { force: true });
  }
}
