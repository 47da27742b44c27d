// The layer cache: a step's layer is found again by a key that chains the parent's key, the
// step itself (expanded instruction, the config it runs with, the build args it sees) and, for
// COPY and ADD, a hash of every source file's path, type, mode and content. Blobs are kept by
// digest; entries are written atomically, so an interrupted build leaves no half entry.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, lstat, mkdir, readFile, readdir, readlink, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LayerBlob } from "../image.ts";
import type { WrittenLayer } from "../layer/index.ts";
import { isIgnored, type IgnoreRule } from "./ignore.ts";
import type { Source } from "./sources.ts";

export interface LayerCache {
  get(key: string): Promise<LayerBlob | undefined>;
  /** Keeps a freshly written layer under `key`; returns it as it is kept. */
  put(key: string, layer: WrittenLayer, mediaType: string): Promise<LayerBlob>;
}

export function cacheKey(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex");
}

/** No cache: layers stay where they were written (the build's scratch folder). */
export const NO_CACHE: LayerCache = {
  get: async () => undefined,
  put: async (_key, layer, mediaType) => ({ ...layer, mediaType }),
};

export function createLayerCache(dir: string): LayerCache {
  const keys = join(dir, "keys");
  const blobs = join(dir, "blobs", "sha256");
  return {
    async get(key) {
      let entry: Omit<LayerBlob, "path">;
      try {
        entry = JSON.parse(await readFile(join(keys, `${key}.json`), "utf8")) as Omit<LayerBlob, "path">;
      } catch {
        return undefined;
      }
      const path = join(blobs, entry.digest.slice("sha256:".length));
      const stats = await lstat(path).catch(() => undefined);
      // A blob removed or damaged since is a miss, never a wrong layer.
      if (stats === undefined || stats.size !== entry.size) return undefined;
      return { ...entry, path };
    },
    async put(key, layer, mediaType) {
      await mkdir(keys, { recursive: true });
      await mkdir(blobs, { recursive: true });
      const path = join(blobs, layer.digest.slice("sha256:".length));
      // Missing or damaged (another size than the layer's): written anew.
      if ((await lstat(path).catch(() => undefined))?.size !== layer.size) {
        const tmp = `${path}.${process.pid}.tmp`;
        await copyFile(layer.path, tmp);
        await rename(tmp, path);
      }
      const entry = { digest: layer.digest, diffId: layer.diffId, size: layer.size, mediaType };
      const tmp = join(keys, `${key}.${process.pid}.tmp`);
      await writeFile(tmp, JSON.stringify(entry));
      await rename(tmp, join(keys, `${key}.json`));
      return { ...entry, path };
    },
  };
}

/** A cache entry as exported: the key and the layer's descriptor. */
export interface CacheEntry {
  readonly key: string;
  readonly digest: string;
  readonly diffId: string;
  readonly size: number;
  readonly mediaType: string;
}

/**
 * The local cache backed by imported entries (from a registry): a key the local cache lacks but
 * an entry names is fetched by `fetchBlob` into `dir`'s blob pool, kept locally, and returned.
 */
export function withImportedEntries(
  dir: string,
  local: LayerCache,
  entries: readonly CacheEntry[],
  fetchBlob: (entry: CacheEntry, path: string) => Promise<void>,
): LayerCache {
  const byKey = new Map(entries.map((e) => [e.key, e]));
  return {
    async get(key) {
      const hit = await local.get(key);
      if (hit !== undefined) return hit;
      const entry = byKey.get(key);
      if (entry === undefined) return undefined;
      const path = join(dir, "blobs", "sha256", `${entry.digest.slice("sha256:".length)}.import`);
      await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
      await fetchBlob(entry, path);
      const kept = await local.put(
        key,
        { digest: entry.digest, diffId: entry.diffId, size: entry.size, path, entries: 0 },
        entry.mediaType,
      );
      await rm(path, { force: true });
      return kept;
    },
    put: (key, layer, mediaType) => local.put(key, layer, mediaType),
  };
}

/** A hash of everything COPY or ADD would read: paths, types, modes, link targets, contents. */
export async function hashSources(
  sources: readonly Source[],
  ignore: readonly IgnoreRule[],
): Promise<string> {
  const hash = createHash("sha256");
  async function visit(path: string, relative: string): Promise<void> {
    const stats = await lstat(path);
    hash.update(`${relative}\0${stats.mode}\0`);
    if (stats.isSymbolicLink()) {
      hash.update(`link:${await readlink(path)}\0`);
    } else if (stats.isDirectory()) {
      hash.update("dir\0");
      for (const name of (await readdir(path)).sort()) {
        const rel = relative === "" ? name : `${relative}/${name}`;
        if (!isIgnored(ignore, rel)) await visit(join(path, name), rel);
      }
    } else {
      hash.update(`file:${stats.size}\0`);
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    }
  }
  for (const source of sources) await visit(source.path, source.relative);
  return hash.digest("hex");
}
