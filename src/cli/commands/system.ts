// `strata system df` and `strata system prune`: the disk the local store, the runner's unpacked
// layers, the containers and the builder's layer cache take, and removing what nothing uses —
// store blobs no name reaches (nor a container's layers), unpacked layers of no stored image and
// no container, cache blobs no cache entry names. Names and containers are never removed.
import { resolve } from "node:path";
import type { Command } from "commander";
import {
  buildCacheDir,
  buildCachePrunable,
  buildCacheUsage,
  pruneBuildCache,
  type BuildCacheUsage,
} from "../build-cache.ts";
import { usageError } from "../errors.ts";
import { dataDir, localImages } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson, printTable } from "../output.ts";
import { formatBytes } from "../sizes.ts";

interface Row {
  readonly type: string;
  readonly total: number;
  readonly active: number;
  readonly bytes: number;
  readonly reclaimable: number;
}

const sum = (xs: readonly { bytes: number }[]): number => xs.reduce((s, x) => s + x.bytes, 0);

/** Everything `df` reports, and what `prune` needs to act on it. */
async function survey(io: CliIo, cacheDir: string | undefined) {
  const remote = await import("../../remote/index.ts");
  const run = await import("../../run/index.ts");
  const store = localImages(io.env);
  const tags = await remote.layoutTags(store);
  const endpoint = remote.createLayoutEndpoint(store);
  const images: string[][] = [];
  for (const { entry } of tags) {
    const d = await remote.describe(endpoint, entry, { referrers: false }).catch(() => undefined);
    if (d !== undefined && d.layers.every((l) => l.diffId !== undefined))
      images.push(d.layers.map((l) => l.diffId ?? ""));
  }
  const runUsage = await run.runDiskUsage(dataDir(io.env), images);
  const containers = await run.listContainers(dataDir(io.env));
  const containerBlobs = new Set(containers.flatMap((c) => c.layers.map((l) => l.digest)));
  const reached = await remote.reachable(store);
  const blobs = (await remote.layoutBlobs(store)).map((b) => ({
    ...b,
    bytes: b.size,
    used: reached.blobs.has(b.digest) || containerBlobs.has(b.digest),
  }));
  const cache: BuildCacheUsage =
    cacheDir === undefined ? { entries: 0, blobs: [], broken: [] } : await buildCacheUsage(cacheDir);
  const rows: Row[] = [
    {
      type: "Images",
      total: tags.length,
      active: new Set(containers.map((c) => c.image)).size,
      bytes: sum(blobs),
      reclaimable: sum(blobs.filter((b) => !b.used)),
    },
    {
      type: "Unpacked layers",
      total: runUsage.layers.length,
      active: runUsage.layers.filter((l) => l.used).length,
      bytes: sum(runUsage.layers),
      reclaimable: sum(runUsage.layers.filter((l) => !l.used)),
    },
    {
      type: "Containers",
      total: runUsage.containers.length,
      active: runUsage.containers.filter((c) => c.status === "running").length,
      bytes: sum(runUsage.containers),
      reclaimable: 0,
    },
    {
      type: "Build cache",
      total: cache.entries,
      active: cache.entries - cache.broken.length,
      bytes: sum(cache.blobs),
      reclaimable: sum(cache.blobs.filter((b) => !b.used)),
    },
  ];
  return { rows, store, runUsage, containerBlobs, cache };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `10m`, `1h`, `7d` in milliseconds; undefined for anything else. */
function durationMs(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  return m === null ? undefined : Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
}

const cacheDirOf = (flags: { cacheDir?: string }, io: CliIo): string | undefined => {
  const dir = flags.cacheDir ?? buildCacheDir(io.env);
  return dir === undefined ? undefined : resolve(dir);
};

export function registerSystem(program: Command, io: CliIo): void {
  const system = program
    .command("system")
    .description("The disk the local store, unpacked layers, containers and the build cache take");

  system
    .command("df")
    .description("Show the disk the local store, unpacked layers, containers and the build cache take")
    .option("--cache-dir <dir>", "the build cache (default as strata build's)")
    .option("--json", "print JSON (exact bytes)")
    .action(async (flags: { cacheDir?: string; json?: boolean }) => {
      const { rows } = await survey(io, cacheDirOf(flags, io));
      if (flags.json === true) printJson(io, rows);
      else
        printTable(
          io,
          [
            ["TYPE", (r) => r.type],
            ["TOTAL", (r) => r.total],
            ["ACTIVE", (r) => r.active],
            ["SIZE", (r) => formatBytes(r.bytes)],
            ["RECLAIMABLE", (r) => formatBytes(r.reclaimable)],
          ],
          rows,
        );
    });

  system
    .command("prune")
    .description(
      "Remove what nothing uses: unreferenced store blobs, unpacked layers of no stored image or container, unused build cache blobs (names and containers stay)",
    )
    .option("--all", "empty the build cache too")
    .option("--grace <duration>", "leave what was written more recently than this (30s, 10m, 1h)", "10m")
    .option("--cache-dir <dir>", "the build cache (default as strata build's)")
    .option("--dry-run", "show what would be removed")
    .option("--json", "print JSON (exact bytes)")
    .action(
      async (flags: {
        all?: boolean;
        grace: string;
        cacheDir?: string;
        dryRun?: boolean;
        json?: boolean;
      }) => {
        const graceMs = durationMs(flags.grace);
        if (graceMs === undefined)
          throw usageError(`Invalid --grace "${flags.grace}": expected a duration such as 30s, 10m or 1h`);
        const writtenBefore = Date.now() - graceMs;
        const remote = await import("../../remote/index.ts");
        const run = await import("../../run/index.ts");
        const cacheDir = cacheDirOf(flags, io);
        const { store, runUsage, containerBlobs, cache } = await survey(io, cacheDir);
        const dryRun = flags.dryRun === true;
        const blobs = await remote.pruneLayout(store, { keep: containerBlobs, writtenBefore, dryRun });
        const layers = await run.pruneLayers(dataDir(io.env), runUsage, { dryRun, writtenBefore });
        const gone = buildCachePrunable(cache, flags.all === true, writtenBefore);
        const cacheBytes =
          cacheDir === undefined
            ? 0
            : dryRun
              ? sum(gone)
              : await pruneBuildCache(cacheDir, cache, gone, flags.all === true);
        const report = {
          dryRun,
          images: { blobs: blobs.removed, bytes: blobs.bytes },
          layers: { chains: layers.map((l) => l.chain), bytes: sum(layers) },
          buildCache: { bytes: cacheBytes },
          bytes: blobs.bytes + sum(layers) + cacheBytes,
        };
        if (flags.json === true) printJson(io, report);
        else {
          const verb = dryRun ? "Would remove" : "Removed";
          io.stdout.write(
            `${verb} ${blobs.removed.length} store blobs (${formatBytes(blobs.bytes)}), ${layers.length} unpacked layers (${formatBytes(sum(layers))}), ${formatBytes(cacheBytes)} of build cache: ${formatBytes(report.bytes)} in all\n`,
          );
        }
      },
    );
}
