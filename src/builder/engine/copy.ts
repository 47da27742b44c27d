// Copying sources into a stage's root as COPY and ADD do: a directory's contents go into the
// destination, several sources need a destination directory (ending in `/`), owners and modes
// can be set, symlinks are copied as symlinks (after the context check), and every target is
// resolved inside the root, so an existing symlink in the root never leads outside it. ADD
// extracts local tar archives (through the hardened layer extractor).
import {
  copyFile,
  chmod,
  lchown,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
} from "node:fs/promises";
import { join, posix } from "node:path";
import { BuildError } from "../errors.ts";
import { extractLayer } from "../layer/index.ts";
import { isIgnored, type IgnoreRule } from "./ignore.ts";
import { resolveInRoot } from "./paths.ts";
import { checkLink, type Source } from "./sources.ts";

export interface CopyOptions {
  readonly owner?: { uid: number; gid: number };
  readonly mode?: number;
  /** ADD: extract local tar archives instead of copying them. */
  readonly extractArchives?: boolean;
  /** The base the sources came from (the context), for symlink checks and ignore rules. */
  readonly base: string;
  readonly ignore: readonly IgnoreRule[];
}

async function isArchive(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(262), 0, 262, 0);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return true;
    return bytesRead >= 262 && buffer.subarray(257, 262).toString("latin1") === "ustar";
  } finally {
    await handle.close();
  }
}

export async function copySources(
  root: string,
  sources: readonly Source[],
  dest: string,
  options: CopyOptions,
): Promise<void> {
  const intoDir = dest.endsWith("/") || sources.length > 1 || sources.some((s) => s.isDirectory);
  if (sources.length > 1 && !dest.endsWith("/")) {
    throw new BuildError(`destination "${dest}" must end with "/" when copying several sources`);
  }
  const finish = async (target: string, isLink: boolean, defaultMode?: number) => {
    if (options.mode !== undefined && !isLink) await chmod(target, options.mode);
    else if (defaultMode !== undefined && !isLink) await chmod(target, defaultMode);
    if (options.owner !== undefined) await lchown(target, options.owner.uid, options.owner.gid);
  };
  const ensureDir = async (inRoot: string) => {
    const target = await resolveInRoot(root, inRoot, { followLast: true });
    const stats = await lstat(target).catch(() => undefined);
    if (stats === undefined) {
      await mkdir(target, { recursive: true });
      await finish(target, false);
    } else if (!stats.isDirectory()) {
      throw new BuildError(`cannot copy into "${inRoot}": it is not a directory`);
    }
    return target;
  };

  async function copyEntry(from: string, relativeFrom: string, inRoot: string): Promise<void> {
    const stats = await lstat(from);
    if (stats.isDirectory()) {
      await ensureDir(inRoot);
      for (const name of (await readdir(from)).sort()) {
        const rel = relativeFrom === "" ? name : `${relativeFrom}/${name}`;
        if (isIgnored(options.ignore, rel)) continue;
        await copyEntry(join(from, name), rel, posix.join(inRoot, name));
      }
      return;
    }
    const target = await resolveInRoot(root, inRoot);
    await mkdir(join(target, ".."), { recursive: true });
    const existing = await lstat(target).catch(() => undefined);
    if (existing !== undefined) await rm(target, { recursive: true, force: true });
    if (stats.isSymbolicLink()) {
      await checkLink(options.base, from, relativeFrom);
      await symlink(await readlink(from), target);
      await finish(target, true);
    } else if (stats.isFile()) {
      await copyFile(from, target);
      await finish(target, false, stats.mode & 0o7777);
    } else {
      throw new BuildError(`"${relativeFrom}" is neither a file, a directory nor a symlink`);
    }
  }

  for (const source of sources) {
    if (options.extractArchives === true && !source.isDirectory && (await isArchive(source.path))) {
      const dir = await ensureDir(dest);
      await extractLayer(source.path, dir, { name: source.relative, chown: false, rootEntry: "ignore" });
      continue;
    }
    if (source.isDirectory) {
      await ensureDir(dest);
      for (const name of (await readdir(source.path)).sort()) {
        const rel = source.relative === "" ? name : `${source.relative}/${name}`;
        if (isIgnored(options.ignore, rel)) continue;
        await copyEntry(join(source.path, name), rel, posix.join(dest, name));
      }
      continue;
    }
    const name = source.relative.split("/").pop() ?? source.relative;
    await copyEntry(source.path, source.relative, intoDir ? posix.join(dest, name) : dest);
  }
}
