// An image's root filesystem as a FileSource, read from its layers without unpacking them: the
// layers stream once, in order (gzip or plain tar), with the image spec's whiteouts (`.wh.NAME`
// hides NAME) and opaque directories (`.wh..wh..opq` hides what lower layers put there) applied
// to what is kept. Only what the catalogers want is kept: the bytes of the files `wanted` names,
// every directory and every symlink (paths are resolved through them as the kernel would), so
// memory follows the package databases, not the image.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { TarFraming } from "../builder/runtime.ts";
import { SbomError } from "./errors.ts";
import { pathParts, resolvePath, type FileSource, type Node } from "./source.ts";

export interface LayerFile {
  /** Where the layer blob is. */
  readonly path: string;
  /** For messages, e.g. its digest. */
  readonly digest?: string;
}

export interface LayerSourceOptions {
  /** The files whose bytes are kept (absolute paths inside the root, before symlinks). */
  readonly wanted: (path: string) => boolean;
  /** Largest wanted file kept; a larger one is an error when it is read (default 64 MiB). */
  readonly maxFileBytes?: number;
  /** Most entries read over all layers (default 2,000,000). */
  readonly maxEntries?: number;
  /** For messages: the image. */
  readonly name?: string;
}

type Kept =
  | { readonly kind: "dir" }
  | { readonly kind: "symlink"; readonly target: string }
  | { readonly kind: "file"; readonly data: Buffer | undefined; readonly size: number };

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

async function compression(path: string): Promise<"gzip" | "tar"> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    if (bytesRead >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return "gzip";
    if (bytesRead === 4 && buffer.readUInt32LE(0) === 0xfd2fb528)
      throw new SbomError("is a zstd layer, which is not read yet", { file: path });
    return "tar";
  } finally {
    await handle.close();
  }
}

/** Reads the layers (bottom first) once and returns the root they make, as far as it was kept. */
export async function layerSource(
  layers: readonly LayerFile[],
  options: LayerSourceOptions,
): Promise<FileSource> {
  const maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 2_000_000;
  const tree = new Map<string, Kept>([["/", { kind: "dir" }]]);
  let entries = 0;

  const removeTree = (path: string, keep?: (p: string) => boolean) => {
    const prefix = path === "/" ? "/" : `${path}/`;
    for (const key of tree.keys())
      if ((key === path || key.startsWith(prefix)) && key !== "/" && keep?.(key) !== true) tree.delete(key);
  };
  const ensureParents = (path: string) => {
    const parts = pathParts(path);
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join("/")}`;
      const kept = tree.get(dir);
      // A symlinked parent stays a symlink (lenient, as runtimes are); a missing one or a file is
      // made a directory.
      if (kept === undefined || kept.kind === "file") {
        removeTree(dir);
        tree.set(dir, { kind: "dir" });
      }
    }
  };

  for (const [index, layer] of layers.entries()) {
    const label = `layer ${index + 1}${layer.digest === undefined ? "" : ` (${layer.digest})`}`;
    const writtenHere = new Set<string>();
    /** Handles an entry; true when it read the entry's data. */
    const onEntry = async (header: Header, body: AsyncIterable<Buffer>): Promise<boolean> => {
      if (++entries > maxEntries)
        throw new SbomError(`more than ${maxEntries} entries in the image's layers`);
      if (header.name.includes("\0") || header.name.split("/").includes(".."))
        throw new SbomError(`entry "${header.name.slice(0, 200)}" has a path with ".."`, { file: label });
      const path = `/${pathParts(header.name).join("/")}`;
      const slash = path.lastIndexOf("/");
      const dir = slash === 0 ? "/" : path.slice(0, slash);
      const base = path.slice(slash + 1);
      if (base === OPAQUE) {
        removeTree(dir, (p) => p === dir || writtenHere.has(p));
        return false;
      }
      if (base.startsWith(WHITEOUT)) {
        removeTree(`${dir === "/" ? "" : dir}/${base.slice(WHITEOUT.length)}`);
        return false;
      }
      if (path === "/") return false;
      writtenHere.add(path);
      ensureParents(path);
      const type = header.type ?? "file";
      if (type === "directory") {
        if (tree.get(path)?.kind !== "dir") {
          tree.delete(path);
          tree.set(path, { kind: "dir" });
        }
        return false;
      }
      // Only a directory has descendants to drop; anything else is one key.
      if (tree.get(path)?.kind === "dir") removeTree(path);
      else tree.delete(path);
      if (type === "symlink") tree.set(path, { kind: "symlink", target: header.linkname ?? "" });
      else if (type === "link") {
        const target = tree.get(`/${pathParts(header.linkname ?? "").join("/")}`);
        if (options.wanted(path) && target?.kind === "file") tree.set(path, target);
      } else if ((type === "file" || type === "contiguous-file") && options.wanted(path)) {
        const size = header.size ?? 0;
        if (size > maxFileBytes) tree.set(path, { kind: "file", data: undefined, size });
        else {
          const chunks: Buffer[] = [];
          for await (const chunk of body) chunks.push(chunk);
          tree.set(path, { kind: "file", data: Buffer.concat(chunks), size });
          return true;
        }
      }
      return false;
    };
    const tar = extract();
    tar.on("entry", (header, stream, next) => {
      const body = stream as unknown as AsyncIterable<Buffer>;
      onEntry(header, body)
        .then(async (read) => {
          if (!read) for await (const chunk of body) void chunk;
        })
        .then(
          () => next(),
          (error: unknown) => {
            stream.resume();
            next(error as Error);
          },
        );
    });
    try {
      const gzip = (await compression(layer.path)) === "gzip";
      await pipeline([
        createReadStream(layer.path),
        ...(gzip ? [createGunzip({ chunkSize: 256 * 1024 })] : []),
        new TarFraming(),
        tar as unknown as Writable,
      ]);
    } catch (error) {
      if (error instanceof SbomError) throw error;
      throw new SbomError(`cannot read ${label}: ${(error as Error).message}`, {
        ...(options.name === undefined ? {} : { file: options.name }),
        cause: error,
      });
    }
  }

  const lookup = (path: string): Promise<Node | undefined> => {
    const kept = tree.get(path);
    if (kept === undefined) return Promise.resolve(undefined);
    return Promise.resolve(kept.kind === "symlink" ? kept : { kind: kept.kind });
  };
  return {
    name: options.name ?? "image",
    async readFile(path, maxBytes) {
      const found = await resolvePath(path, lookup);
      const kept = found === undefined ? undefined : tree.get(found.path);
      if (kept?.kind !== "file") return undefined;
      if (kept.data === undefined || kept.size > maxBytes)
        throw new SbomError(`is larger than ${Math.min(maxBytes, maxFileBytes)} bytes (${kept.size})`, {
          file: path,
        });
      return kept.data;
    },
    async list(path) {
      const found = await resolvePath(path, lookup);
      if (found?.node.kind !== "dir") return undefined;
      const prefix = found.path === "/" ? "/" : `${found.path}/`;
      const names = new Set<string>();
      for (const key of tree.keys())
        if (key.startsWith(prefix) && key.length > prefix.length) {
          const rest = key.slice(prefix.length);
          names.add(rest.includes("/") ? rest.slice(0, rest.indexOf("/")) : rest);
        }
      return [...names].sort();
    },
  };
}
