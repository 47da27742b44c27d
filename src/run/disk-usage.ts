// What the runner keeps on disk and what of it is in use: the unpacked layers under `layers/`
// (one folder per chain of layers, shared by every image with that chain) and the containers'
// folders. Pruning removes the layer folders no image named and no container uses; they are
// unpacked again by the next run that needs them.
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { listContainers } from "./containers.ts";
import { layerChains } from "./layer-chains.ts";

/** Bytes of the regular files and symlinks under `path` (directories and devices count none). */
export async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.isFile() || info.isSymbolicLink() ? info.size : 0;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[]))
    total += await treeBytes(join(path, name));
  return total;
}

export interface LayerFolder {
  readonly chain: string;
  readonly bytes: number;
  readonly used: boolean;
  /** When the folder was last changed (its unpacking ends just before it appears). */
  readonly mtimeMs: number;
}

export interface RunUsage {
  readonly layers: readonly LayerFolder[];
  readonly containers: readonly { readonly name: string; readonly bytes: number; readonly status: string }[];
}

/** Unpacked layer folders (finished ones: not a run's temporary folder) and containers. */
export async function runDiskUsage(
  stateDir: string,
  images: readonly (readonly string[])[],
): Promise<RunUsage> {
  const containers = await listContainers(stateDir);
  const used = new Set([
    ...images.flatMap((diffIds) => layerChains(diffIds)),
    ...containers.flatMap((c) => layerChains(c.layers.map((l) => l.diffId))),
  ]);
  const layers: LayerFolder[] = [];
  for (const chain of (await readdir(join(stateDir, "layers")).catch(() => [] as string[])).sort()) {
    if (!/^[0-9a-f]{64}$/.test(chain)) continue; // "empty" and folders being unpacked
    const path = join(stateDir, "layers", chain);
    const mtimeMs = (await lstat(path).catch(() => undefined))?.mtimeMs ?? 0;
    layers.push({ chain, bytes: await treeBytes(path), used: used.has(chain), mtimeMs });
  }
  return {
    layers,
    containers: await Promise.all(
      containers.map(async (c) => ({
        name: c.name,
        status: c.status,
        bytes: await treeBytes(join(stateDir, "containers", c.name)),
      })),
    ),
  };
}

/**
 * Removes the unpacked layers `usage` found unused (with `writtenBefore`, only those unpacked
 * before that time: a run that just unpacked one has not recorded its container yet).
 */
export async function pruneLayers(
  stateDir: string,
  usage: RunUsage,
  options: { dryRun?: boolean; writtenBefore?: number } = {},
): Promise<LayerFolder[]> {
  const unused = usage.layers.filter(
    (l) => !l.used && (options.writtenBefore === undefined || l.mtimeMs < options.writtenBefore),
  );
  const dryRun = options.dryRun === true;
  if (!dryRun)
    for (const l of unused) await rm(join(stateDir, "layers", l.chain), { recursive: true, force: true });
  return unused;
}
