// The local chunk cache: what a machine already has of chunked disks, so a pull fetches only the
// chunks it lacks and a push compresses only the chunks it has not compressed before. One folder:
//
//   CACHE/
//     chunks/<raw sha256 hex>   a chunk's raw bytes (pulls, and pushes unless told not to keep
//                               them: a push against a previous version stores its changed
//                               chunks as deltas against these), checked against the name when read
//     stored/<raw sha256 hex>   how a push stored that chunk: {"digest","size","encoding"} of its blob
//     known/<sha256 of "registry/repository">   blobs pushes from here found in or sent to that
//                               repository, one digest per line, so a later push need not ask
//
// Every file is written beside its final name and renamed into place, so concurrent pulls and
// pushes sharing a cache see each file whole or not at all; a file that does not match its name
// (a disk error, a hand edit) is removed and treated as missing — when read by getChunk, or by a
// caller of readChunkPart that checks what it read some other way. Nothing is ever evicted here:
// the cache is a plain folder its owner may empty at any time.
import { randomBytes } from "node:crypto";
import { close, open, read } from "node:fs";
import {
  access,
  appendFile,
  mkdir,
  opendir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { isDigest, type Digest } from "../../oci/index.ts";
import { sha256Hex, type PlainEncoding } from "./compress.ts";

const HEX64 = /^[0-9a-f]{64}$/;

/** How a chunk was stored in a registry: its blob's digest, size and encoding. */
export interface StoredForm {
  readonly digest: Digest;
  readonly size: number;
  readonly encoding: PlainEncoding;
}

export interface ChunkCache {
  readonly dir: string;
  /** A chunk's raw bytes, or undefined when the cache lacks them (or held damaged bytes). */
  getChunk(rawSha256: string, length: number): Promise<Buffer | undefined>;
  /** Whether the cache holds a file for the chunk (its bytes are not looked at). */
  hasChunk(rawSha256: string): Promise<boolean>;
  /** Stores a chunk's raw bytes (already checked against `rawSha256` by the caller). */
  putChunk(rawSha256: string, bytes: Buffer): Promise<void>;
  /**
   * Which of the chunks `wanted` (raw digests) the cache holds a file for, by one pass over its
   * folder: neither the files' sizes nor their bytes are looked at.
   */
  heldChunks(wanted: ReadonlySet<string>): Promise<Set<string>>;
  /**
   * Reads `length` bytes of the chunk's file from `position` into `into` at `offset`, UNCHECKED:
   * the count read (less at the file's end), or undefined when the cache lacks the chunk. For a
   * caller that checks the bytes another way (a pull checks the whole disk's digest) and calls
   * dropChunk when they are wrong.
   */
  readChunkPart(
    rawSha256: string,
    into: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<number | undefined>;
  /** Removes a chunk found damaged. */
  dropChunk(rawSha256: string): Promise<void>;
  /** How a push stored the chunk with this raw digest, if one did. */
  getStored(rawSha256: string): Promise<StoredForm | undefined>;
  putStored(rawSha256: string, stored: StoredForm): Promise<void>;
  /** The blobs pushes from this machine found in or sent to `scope` ("registry/repository"). */
  knownBlobs(scope: string): Promise<Set<string>>;
  /** Adds blobs now known to be in `scope`. */
  rememberBlobs(scope: string, digests: readonly string[]): Promise<void>;
  /** Forgets what `scope` was known to hold (the registry lost a blob it was known to have). */
  forgetBlobs(scope: string): Promise<void>;
}

export interface ChunkCacheSize {
  /** Raw chunks held, and their bytes. */
  readonly chunks: number;
  readonly bytes: number;
  /** Stored-form records held (push). */
  readonly stored: number;
}

function checkName(rawSha256: string): string {
  if (!HEX64.test(rawSha256)) throw new TypeError(`Invalid chunk digest "${rawSha256}": expected 64 hex`);
  return rawSha256;
}

/** Writes `bytes` to `path` through a temporary file beside it, created folders included. */
async function writeAtomic(dir: string, name: string, bytes: Buffer | string): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, bytes);
  }
  try {
    await rename(tmp, join(dir, name));
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Reads up to `length` bytes of the file at `path` from `position` into `into` at `offset`: the
 * count read, or undefined when there is no such file. Callback fs, with no FileHandle: a pull
 * reads thousands of small chunk files, and each costs one open, one read and one close.
 */
function readInto(
  path: string,
  into: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    open(path, "r", (openError, fd) => {
      if (openError !== null) {
        if (openError.code === "ENOENT") resolve(undefined);
        else reject(openError);
        return;
      }
      let done = 0;
      const finish = (error: Error | null): void =>
        close(fd, (closeError) => {
          const failure = error ?? closeError;
          if (failure !== null) reject(failure);
          else resolve(done);
        });
      const next = (): void =>
        read(fd, into, offset + done, length - done, position + done, (readError, bytesRead) => {
          if (readError !== null) return finish(readError);
          done += bytesRead;
          if (bytesRead === 0 || done === length) return finish(null);
          next();
        });
      next();
    });
  });
}

/** The cache in `dir` (created as files are stored). */
export function openChunkCache(dir: string): ChunkCache {
  const chunks = join(dir, "chunks");
  const stored = join(dir, "stored");
  const known = join(dir, "known");
  const knownFile = (scope: string): string => join(known, sha256Hex(Buffer.from(scope, "utf8")));
  return {
    dir,
    async getChunk(rawSha256, length) {
      const path = join(chunks, checkName(rawSha256));
      const bytes = await readOrUndefined(path);
      if (bytes === undefined) return undefined;
      if (bytes.length === length && sha256Hex(bytes) === rawSha256) return bytes;
      await rm(path, { force: true });
      return undefined;
    },
    hasChunk: async (rawSha256) =>
      access(join(chunks, checkName(rawSha256))).then(
        () => true,
        () => false,
      ),
    putChunk: async (rawSha256, bytes) => writeAtomic(chunks, checkName(rawSha256), bytes),
    async heldChunks(wanted) {
      const held = new Set<string>();
      let folder;
      try {
        folder = await opendir(chunks, { bufferSize: 256 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return held;
        throw error;
      }
      for await (const entry of folder) if (wanted.has(entry.name) && entry.isFile()) held.add(entry.name);
      return held;
    },
    readChunkPart: async (rawSha256, into, offset, length, position) =>
      readInto(join(chunks, checkName(rawSha256)), into, offset, length, position),
    dropChunk: async (rawSha256) => rm(join(chunks, checkName(rawSha256)), { force: true }),
    async getStored(rawSha256) {
      const bytes = await readOrUndefined(join(stored, checkName(rawSha256)));
      if (bytes === undefined) return undefined;
      try {
        const form = JSON.parse(bytes.toString("utf8")) as Partial<StoredForm>;
        if (
          typeof form.digest === "string" &&
          isDigest(form.digest) &&
          Number.isSafeInteger(form.size) &&
          (form.encoding === "gzip" || form.encoding === "none")
        )
          return { digest: form.digest, size: form.size as number, encoding: form.encoding };
      } catch {
        // not JSON: a damaged record, dropped below
      }
      await rm(join(stored, rawSha256), { force: true });
      return undefined;
    },
    putStored: async (rawSha256, form) =>
      writeAtomic(
        stored,
        checkName(rawSha256),
        JSON.stringify({ digest: form.digest, size: form.size, encoding: form.encoding }),
      ),
    async knownBlobs(scope) {
      const bytes = await readOrUndefined(knownFile(scope));
      // A torn last line (a push killed while appending) is not a digest and is skipped.
      return new Set((bytes?.toString("utf8") ?? "").split("\n").filter((line) => isDigest(line)));
    },
    async rememberBlobs(scope, digests) {
      if (digests.length === 0) return;
      await mkdir(known, { recursive: true });
      // One append of whole lines: concurrent pushes to one repository interleave lines, never bytes.
      await appendFile(knownFile(scope), `\n${digests.join("\n")}\n`);
    },
    forgetBlobs: async (scope) => rm(knownFile(scope), { force: true }),
  };
}

/** How much the cache in `dir` holds (zeros for a folder that does not exist). */
export async function chunkCacheSize(dir: string): Promise<ChunkCacheSize> {
  const names = async (sub: string): Promise<string[]> =>
    (await readdir(join(dir, sub)).catch(() => [] as string[])).filter((n) => HEX64.test(n));
  let bytes = 0;
  const held = await names("chunks");
  for (const name of held) bytes += (await stat(join(dir, "chunks", name)).catch(() => undefined))?.size ?? 0;
  return { chunks: held.length, bytes, stored: (await names("stored")).length };
}
