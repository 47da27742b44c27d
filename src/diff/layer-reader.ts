// One layer read as records of metadata, streamed once: gzip, zstd (through zstd(1): Node 20 has
// no zstd) or plain tar, recognised by their magic bytes whatever the media type says. Files'
// contents are hashed as they pass and never kept. Paths are cleaned as extraction cleans them
// (absolute paths and `..` refused), and sizes and entry counts are capped, so a hostile or
// corrupt layer is an error naming the layer, never a hang or a machine out of memory.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Duplex, PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { cleanEntryPath, TarFraming, WHITEOUT_PREFIX } from "../builder/index.ts";
import { ByteCap } from "../lib/byte-cap.ts";
import { DiffError } from "./errors.ts";
import type { FileEntry, FileType, LayerRecord } from "./file-tree.ts";

const OPAQUE = ".wh..wh..opq";

/** Where a layer's bytes come from. */
export interface LayerSource {
  /** The blob's digest (for messages and for telling shared layers). */
  readonly digest: string;
  /** The uncompressed tar's digest, from the image config, when it lists it. */
  readonly diffId?: string;
  open(): Promise<Readable>;
}

export interface ReadLayerOptions {
  /** Whether a path's records matter (default all): others are skipped, their content unread. */
  readonly keep?: (path: string) => boolean;
  /** Largest uncompressed size (default 64 GiB). */
  readonly maxBytes?: number;
  /** Most entries (default 2,000,000). */
  readonly maxEntries?: number;
  /** For messages, e.g. "layer 2 of sha256:…". */
  readonly name?: string;
}

const TYPES: Readonly<Record<string, FileType>> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

/** The stream with its first bytes read ahead (for the magic), and those bytes. */
async function peek(input: Readable): Promise<{ head: Buffer; body: Readable }> {
  const iterator = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let length = 0;
  while (length < 4) {
    const next = await iterator.next();
    if (next.done === true) break;
    first.push(next.value);
    length += next.value.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* first;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  return { head: Buffer.concat(first).subarray(0, 4), body: Readable.from(all(), { objectMode: false }) };
}

/** zstd(1) as a stream stage: its exit status decides whether the output was complete. */
function zstdStage(): Duplex {
  const child = spawn("zstd", ["-dcq"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
  child.stdin.on("error", () => undefined);
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.on("error", (error) => duplex.destroy(new Error(`cannot run zstd: ${error.message}`)));
  child.on("close", (code) => {
    if (code === 0) out.end();
    else duplex.destroy(new Error(`zstd failed: ${stderr.trim() || `exit status ${String(code)}`}`));
  });
  duplex.on("close", () => child.kill());
  return duplex;
}

/** The decompressor the magic bytes call for: gzip, zstd, or none (a plain tar). */
function decompressor(head: Buffer): NodeJS.ReadWriteStream | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return createGunzip({ chunkSize: 256 * 1024 });
  if (head.length === 4 && head.readUInt32LE(0) === 0xfd2fb528) return zstdStage();
  return undefined;
}

/** Reads a layer's records in order; only entries `keep` accepts are hashed and returned. */
export async function readLayer(source: LayerSource, options: ReadLayerOptions = {}): Promise<LayerRecord[]> {
  const label = options.name ?? source.digest;
  const refuse = (why: string): never => {
    throw new DiffError("BAD_LAYER", `Cannot read layer ${label}: ${why}`);
  };
  const maxEntries = options.maxEntries ?? 2_000_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 ** 3;
  const keep = options.keep ?? (() => true);
  const records: LayerRecord[] = [];
  let entries = 0;

  async function onEntry(
    header: Header,
    body: AsyncIterable<unknown> & { resume(): unknown },
  ): Promise<void> {
    framing.xattrs.shift();
    if (++entries > maxEntries) refuse(`more than ${maxEntries} entries`);
    const path = cleanEntryPath(header.name, refuse);
    const slash = path.lastIndexOf("/");
    const base = slash < 0 ? path : path.slice(slash + 1);
    const dir = slash < 0 ? "" : path.slice(0, slash);
    if (path === "") return void body.resume(); // the root itself
    if (base === OPAQUE) {
      records.push({ kind: "opaque", path: dir });
      return void body.resume();
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === "" || hidden === "." || hidden === "..") refuse(`invalid whiteout "${path}"`);
      records.push({ kind: "whiteout", path: dir === "" ? hidden : `${dir}/${hidden}` });
      return void body.resume();
    }
    const type = TYPES[header.type ?? "file"];
    if (type === undefined) {
      body.resume();
      return refuse(`entry "${path.slice(0, 200)}" has the unsupported type "${header.type ?? ""}"`);
    }
    if (!keep(path)) return void body.resume();
    let sha256: string | undefined;
    let size = 0;
    if (type === "file") {
      const hash = createHash("sha256");
      for await (const chunk of body) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      sha256 = hash.digest("hex");
    } else body.resume();
    let linkTarget: string | undefined;
    if (type === "symlink") linkTarget = header.linkname ?? "";
    if (type === "hardlink")
      linkTarget = cleanEntryPath(header.linkname ?? "", (why) =>
        refuse(`hard link "${path.slice(0, 200)}" has a bad target: ${why}`),
      );
    const entry: FileEntry = {
      type,
      size,
      mode: (header.mode ?? 0) & 0o7777,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
      ...(sha256 === undefined ? {} : { sha256 }),
      ...(linkTarget === undefined ? {} : { linkTarget }),
      ...(type === "char" || type === "block"
        ? { device: `${header.devmajor ?? 0}:${header.devminor ?? 0}` }
        : {}),
    };
    records.push({ kind: "entry", path, entry });
  }

  const tar = extract();
  const framing = new TarFraming();
  tar.on("entry", (header, stream, next) => {
    onEntry(header, stream).then(
      () => next(),
      (error: unknown) => {
        stream.resume();
        next(error as Error);
      },
    );
  });
  const cap = new ByteCap(
    maxBytes,
    () => new DiffError("BAD_LAYER", `Cannot read layer ${label}: more than ${maxBytes} bytes uncompressed`),
  );
  try {
    const { head, body } = await peek(await source.open());
    const stage = decompressor(head);
    await pipeline([
      body,
      ...(stage === undefined ? [] : [stage]),
      cap,
      framing,
      tar as unknown as NodeJS.WritableStream,
    ]);
  } catch (error) {
    if (error instanceof DiffError) throw error;
    throw new DiffError("BAD_LAYER", `Cannot read layer ${label}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return records;
}
