// The builder's layer cache as `system df` and `system prune` see it: entries (keys/KEY.json,
// each naming a layer blob) and the blobs (blobs/sha256/HEX). A blob no entry names, or an entry
// whose blob is gone (a miss anyway), is unused. The folder's shape is the builder's
// (engine/cache.ts); this reads it without loading the builder.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";

type Env = Readonly<Record<string, string | undefined>>;

/** $XDG_CACHE_HOME/strata/build, else ~/.cache/strata/build. */
export function buildCacheDir(env: Env): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "strata", "build");
  if (env.HOME) return join(env.HOME, ".cache", "strata", "build");
  return undefined;
}

export interface BuildCacheUsage {
  readonly entries: number;
  readonly blobs: readonly {
    readonly hex: string;
    readonly bytes: number;
    readonly used: boolean;
    readonly mtimeMs: number;
  }[];
  /** Entries whose blob is missing. */
  readonly broken: readonly string[];
}

export async function buildCacheUsage(dir: string): Promise<BuildCacheUsage> {
  const keys = (await readdir(join(dir, "keys")).catch(() => [] as string[])).filter((k) =>
    k.endsWith(".json"),
  );
  const named = new Map<string, string[]>();
  for (const key of keys) {
    const digest = await readFile(join(dir, "keys", key), "utf8")
      .then((t) => String((JSON.parse(t) as { digest?: unknown }).digest))
      .catch(() => "");
    const hex = digest.replace(/^sha256:/, "");
    named.set(hex, [...(named.get(hex) ?? []), key]);
  }
  const blobs = [];
  for (const hex of (await readdir(join(dir, "blobs", "sha256")).catch(() => [] as string[])).sort()) {
    if (!/^[0-9a-f]{64}$/.test(hex)) continue; // a blob being written
    const info = await stat(join(dir, "blobs", "sha256", hex));
    blobs.push({ hex, bytes: info.size, used: named.has(hex), mtimeMs: info.mtimeMs });
  }
  const present = new Set(blobs.map((b) => b.hex));
  const broken = [...named].filter(([hex]) => !present.has(hex)).flatMap(([, k]) => k);
  return { entries: keys.length, blobs, broken };
}

/**
 * The blobs a prune removes: unused ones written before `writtenBefore` (a build in progress
 * writes a blob before its entry), or with `all` every one.
 */
export const buildCachePrunable = (usage: BuildCacheUsage, all: boolean, writtenBefore: number) =>
  usage.blobs.filter((b) => all || (!b.used && b.mtimeMs < writtenBefore));

/** Removes `gone` and broken entries; with `all`, the whole cache. Returns bytes freed. */
export async function pruneBuildCache(
  dir: string,
  usage: BuildCacheUsage,
  gone: BuildCacheUsage["blobs"],
  all: boolean,
): Promise<number> {
  if (all) await rm(join(dir, "keys"), { recursive: true, force: true });
  else for (const key of usage.broken) await rm(join(dir, "keys", key), { force: true });
  for (const b of gone) await rm(join(dir, "blobs", "sha256", b.hex), { force: true });
  return gone.reduce((sum, b) => sum + b.bytes, 0);
}
