// Unpacks a layer (gzip or plain tar) onto a root filesystem, refusing anything that could write
// outside the root or exhaust the machine: absolute paths, `..`, parent directories that are
// symlinks, hard links to outside the root, whiteouts through symlinks, more than the allowed
// uncompressed bytes (a gzip bomb) or entries. Whiteouts and opaque directories of the image spec
// are applied; device files are skipped (builds run unprivileged inside them) unless the caller
// asks for them (`devices: "create"`, for disks), as are extended attributes (`xattrs: "apply"`).
// An entry for the
// root itself (`/`, `./`, `.`, as umoci writes) gives the root its mode, owner and time once the
// rest is unpacked; a layer that ends after a complete entry without the end-of-archive blocks is
// read to that end, one cut inside a header or data is refused (`TarFraming`).
import { execFile } from "node:child_process";
import {
  chmodSync,
  closeSync,
  createReadStream,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { lutimes, open, readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { ByteCap } from "../../lib/byte-cap.ts";
import { BuildError } from "../errors.ts";
import { TarFraming } from "./tar-framing.ts";
import { WHITEOUT_PREFIX } from "./write-layer.ts";

const OPAQUE = ".wh..wh..opq";

/** An entry's content stream (tar-stream's, a streamx Readable). */
type Body = AsyncIterable<unknown> & { resume(): unknown };

export interface ExtractOptions {
  /** Largest uncompressed size accepted (default 16 GiB). */
  readonly maxBytes?: number;
  /** Most entries accepted (default 1,000,000). */
  readonly maxEntries?: number;
  /** Keep owners from the layer (default: when running as root). */
  readonly chown?: boolean;
  /** For messages, e.g. the layer digest. */
  readonly name?: string;
  /**
   * Told of each whiteout (`opaque` false: the path it hides) and opaque directory (`opaque`
   * true: the directory), after it was applied; for callers that keep layers apart (overlayfs).
   */
  readonly onWhiteout?: (path: string, opaque: boolean) => void;
  /**
   * What an entry for the root itself (`/`, `./`, `.`) does: "apply" (default) gives the root
   * its mode, owner and time; "ignore" leaves the root as it is (ADD into an existing folder).
   */
  readonly rootEntry?: "apply" | "ignore";
  /**
   * Device files and FIFOs: "skip" (default; a build never needs them) or "create" (with mknod,
   * as root: a disk's root filesystem keeps its /dev nodes).
   */
  readonly devices?: "skip" | "create";
  /** Extended attributes (pax `SCHILY.xattr.*`): "ignore" (default) or "apply" (setfattr). */
  readonly xattrs?: "ignore" | "apply";
}

export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
  readonly skippedDevices: number;
}

/**
 * `a/./b/` → `a/b`, and "" for the root itself (`/`, `./`, `.`); refuses every other absolute
 * path and `..`.
 */
export function cleanEntryPath(name: string, refuse: (why: string) => never): string {
  if (name.includes("\0")) refuse("path with a NUL byte");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) return "";
  if (name.startsWith("/")) refuse(`absolute path "${name.slice(0, 200)}"`);
  if (parts.includes("..")) refuse(`path with ".." "${name.slice(0, 200)}"`);
  return parts.join("/");
}

// Metadata calls are made synchronously: a layer is tens of thousands of small operations, and a
// round trip through the thread pool for each (the promise API) costs more than the call itself.
function lstatOrUndefined(path: string) {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** Writes the whole buffer (writeSync may write less than asked). */
function writeAll(fd: number, chunk: Buffer): void {
  let done = 0;
  while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
}

export async function extractLayer(
  blob: string,
  root: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const label = options.name ?? blob;
  const refuse = (why: string): never => {
    throw new BuildError(`refusing layer ${label}: ${why}`);
  };
  const maxBytes = options.maxBytes ?? 16 * 1024 ** 3;
  const maxEntries = options.maxEntries ?? 1_000_000;
  const chownEntries = options.chown ?? process.getuid?.() === 0;
  const writtenHere = new Set<string>();
  /** Paths seen to be real directories in this layer's root: parents already checked. */
  const knownDirs = new Set<string>();
  /** The root entry's header, applied last so that a read-only root does not stop the rest. */
  let rootHeader: Header | undefined;
  /**
   * Directories whose contents this layer changed, with the time each must keep: its own entry's
   * time when the layer has one, else the time it had before. Writing a child bumps a directory's
   * time, so they are set again at the end, deepest first, as tar does.
   */
  const dirTimes = new Map<string, Date | number>();
  async function keepDirTime(dir: string, fallback: Date | number | undefined): Promise<void> {
    if (dirTimes.has(dir)) return;
    const stats = lstatOrUndefined(join(root, dir));
    const time = stats?.mtime ?? fallback;
    if (time !== undefined) dirTimes.set(dir, time);
  }
  let entries = 0;
  let skippedDevices = 0;

  /** Ensures every parent of `path` is a real directory inside the root (created as needed). */
  async function parentDirs(path: string): Promise<void> {
    const parts = path.split("/").slice(0, -1);
    let current = "";
    for (const part of parts) {
      current = current === "" ? part : `${current}/${part}`;
      if (knownDirs.has(current)) continue;
      const stats = lstatOrUndefined(join(root, current));
      if (stats === undefined) {
        await keepDirTime(current.includes("/") ? current.slice(0, current.lastIndexOf("/")) : "", undefined);
        mkdirSync(join(root, current), { mode: 0o755 });
        knownDirs.add(current);
      } else if (stats.isSymbolicLink()) {
        refuse(`"${path}" goes through the symlink "${current}"`);
      } else if (!stats.isDirectory()) {
        refuse(`"${path}" goes through "${current}", which is not a directory`);
      } else knownDirs.add(current);
    }
  }

  async function removeTree(path: string): Promise<void> {
    knownDirs.clear();
    await rm(join(root, path), { recursive: true, force: true });
  }

  async function applyEntry(header: Header, body: Body): Promise<void> {
    const xattrs = framing.xattrs.shift();
    if (++entries > maxEntries) refuse(`more than ${maxEntries} entries`);
    const path = cleanEntryPath(header.name, refuse);
    if (path === "") {
      body.resume();
      const type = header.type ?? "file";
      if (type !== "directory")
        refuse(`entry "${header.name.slice(0, 200)}" names the root but is a ${type}, not a directory`);
      if (options.rootEntry !== "ignore") rootHeader = header;
      return;
    }
    const slash = path.lastIndexOf("/");
    const dir = slash < 0 ? "" : path.slice(0, slash);
    const base = slash < 0 ? path : path.slice(slash + 1);
    await parentDirs(path);
    await keepDirTime(dir, header.mtime);

    if (base === OPAQUE) {
      body.resume();
      const children = await readdir(join(root, dir)).catch(() => []);
      for (const child of children) {
        const childPath = dir === "" ? child : `${dir}/${child}`;
        if (!writtenHere.has(childPath)) await removeTree(childPath);
      }
      options.onWhiteout?.(dir, true);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      body.resume();
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === "" || hidden === "." || hidden === "..") refuse(`invalid whiteout "${path}"`);
      await removeTree(dir === "" ? hidden : `${dir}/${hidden}`);
      options.onWhiteout?.(dir === "" ? hidden : `${dir}/${hidden}`, false);
      return;
    }

    const target = join(root, path);
    const existing = lstatOrUndefined(target);
    const type = header.type ?? "file";
    if (existing !== undefined && !(type === "directory" && existing.isDirectory())) {
      if (existing.isDirectory()) await removeTree(path);
      else unlinkSync(target);
    }
    const mode = (header.mode ?? 0o644) & 0o7777;
    switch (type) {
      case "directory":
        if (existing === undefined || !existing.isDirectory()) mkdirSync(target, { mode });
        body.resume();
        break;
      case "file":
      case "contiguous-file": {
        const fd = openSync(target, "wx", mode);
        try {
          for await (const chunk of body) writeAll(fd, chunk as Buffer);
        } catch (error) {
          // Cut short (the layer ends inside this file's data): leave no partial file behind.
          closeSync(fd);
          await unlink(target).catch(() => undefined);
          throw error;
        }
        closeSync(fd);
        break;
      }
      case "symlink":
        body.resume();
        symlinkSync(header.linkname ?? "", target);
        break;
      case "link": {
        body.resume();
        const source = cleanEntryPath(header.linkname ?? "", (why) =>
          refuse(`hard link "${path}" has a bad target: ${why}`),
        );
        await parentDirs(source);
        const stats = lstatOrUndefined(join(root, source));
        if (stats === undefined || !stats.isFile())
          refuse(`hard link "${path}" to "${source}", which is not a file in the layer's root`);
        linkSync(join(root, source), target);
        break;
      }
      case "character-device":
      case "block-device":
      case "fifo":
        body.resume();
        if (options.devices !== "create") {
          skippedDevices++;
          return;
        }
        await makeNode(target, type, header);
        break;
      default:
        body.resume();
        refuse(`entry "${path}" of unsupported type "${type}"`);
    }
    writtenHere.add(path);
    if (type === "directory") knownDirs.add(path);
    await applyMetadata(target, header, type !== "symlink");
    if (type === "directory" && header.mtime !== undefined) dirTimes.set(path, header.mtime);
    if (options.xattrs === "apply" && xattrs !== undefined) await applyXattrs(target, xattrs, refuse);
  }

  async function applyMetadata(target: string, header: Header, withMode: boolean): Promise<void> {
    if (withMode) chmodSync(target, (header.mode ?? 0o644) & 0o7777);
    if (chownEntries) lchownSync(target, header.uid ?? 0, header.gid ?? 0);
    if (header.mtime !== undefined)
      try {
        lutimesSync(target, header.mtime, header.mtime);
      } catch {
        // A time that cannot be set (a symlink on a file system without lutimes) is no error.
      }
  }

  const cap = new ByteCap(
    maxBytes,
    () => new BuildError(`refusing layer ${label}: more than ${maxBytes} bytes uncompressed`),
  );
  const tar = extract();
  const framing = new TarFraming();
  /** The entry being written, awaited before returning so that a failure leaves no half-file. */
  let inFlight: Promise<unknown> = Promise.resolve();
  tar.on("entry", (header, stream, next) => {
    inFlight = applyEntry(header, stream).then(
      () => next(),
      (error: unknown) => {
        stream.resume();
        next(error as Error);
      },
    );
  });
  const magic = await readMagic(blob);
  const stages: NodeJS.ReadWriteStream[] =
    magic === "gzip" ? [createGunzip({ chunkSize: 256 * 1024 }), cap] : [cap];
  try {
    await pipeline([createReadStream(blob), ...stages, framing, tar as unknown as NodeJS.WritableStream]);
    const deepestFirst = [...dirTimes].sort((a, b) => b[0].split("/").length - a[0].split("/").length);
    for (const [dir, time] of deepestFirst)
      if (dir !== "") await lutimes(join(root, dir), time, time).catch(() => undefined);
    if (rootHeader !== undefined) await applyMetadata(root, rootHeader, true);
    else if (dirTimes.has("")) {
      const time = dirTimes.get("") ?? 0;
      await lutimes(root, time, time).catch(() => undefined);
    }
  } catch (error) {
    await inFlight.catch(() => undefined);
    if (error instanceof BuildError) throw error;
    throw new BuildError(`refusing layer ${label}: ${(error as Error).message}`, { cause: error });
  }
  return { entries, bytes: cap.bytes, skippedDevices };
}

async function readMagic(path: string): Promise<"gzip" | "tar"> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b ? "gzip" : "tar";
  } finally {
    await handle.close();
  }
}

const run = promisify(execFile);

/** A device node or FIFO, made with mknod(1): node has no mknod of its own. */
async function makeNode(target: string, type: "character-device" | "block-device" | "fifo", header: Header) {
  const mode = ((header.mode ?? 0o644) & 0o7777).toString(8);
  const args =
    type === "fifo"
      ? ["-m", mode, target, "p"]
      : [
          "-m",
          mode,
          target,
          type === "character-device" ? "c" : "b",
          String(header.devmajor ?? 0),
          String(header.devminor ?? 0),
        ];
  await run("mknod", args);
}

/** Applies an entry's extended attributes (raw values, from the framing) with setfattr(1), not following symlinks. */
async function applyXattrs(
  target: string,
  xattrs: ReadonlyMap<string, Buffer>,
  refuse: (why: string) => never,
): Promise<void> {
  for (const [name, value] of xattrs) {
    if (!/^(user|security|trusted|system\.posix_acl_(access|default))(\.[^\0]{1,250})?$/.test(name))
      refuse(`extended attribute "${name.slice(0, 100)}" is not allowed`);
    await run("setfattr", ["-h", "-n", name, "-v", `0x${value.toString("hex")}`, target]);
  }
}
