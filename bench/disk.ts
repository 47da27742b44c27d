// `npm run bench:disk`: what a chunked VM disk costs to move. A 2 GiB Debian disk (about 670 MiB
// of system) is built from the bootable base image, then a second version of it twice over:
//   - "packages": Debian packages picked at random from the image's dpkg database until their
//     files hold 1% of the files' bytes, every file of them rewritten (same size, new bytes) — an
//     upgrade of a few packages; this is the patch the targets are judged on;
//   - "files": single files picked at random, each as likely as any other (so mostly small ones),
//     until they hold 1% of the files' bytes — the hardest spread of small changes, shown beside.
// Each pair is pushed to a Strata server on loopback and pulled back with the real CLI
// (`strata disk push`/`pull`), each in a process of its own whose peak RSS is read from /proc.
// Beside each figure: what one whole qcow2 blob per version (the older disk artifact, and what
// registries and galleries move today) costs. Targets: first push ≤ 1.02× the compressed
// non-zero bytes (gzip -6 of the disk's data as one stream); the second version ≤ 3% of the first
// push, on push and on pull with the first version cached; chunking plus hashing ≥ 300 MiB/s on
// one core; reassembly from a warm cache ≥ 500 MiB/s; peak RSS ≤ 200 MiB.
//
//   npm run bench:disk [-- --base oci-layout:PATH:TAG] [-- --keep DIR]
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import { buildDebianBase } from "../scripts/base-images.ts";
import type { TransferStats } from "../src/disk/chunked/stats.ts";
import { startStrata } from "../test/helpers/strata-server.ts";

const run = promisify(execFile);
const MiB = 2 ** 20;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const fmt = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(2)}%`;

interface ChildResult {
  stats: TransferStats;
  digest?: string;
  maxRssKiB: number;
}

// ---- a push or a pull: the real CLI in a process of its own, its peak RSS read from /proc --------
// bin/strata, the installed command: it execs Node with the disk commands' small young generation
// (the same process id, so /proc follows the Node process doing the work).
const BIN = new URL("../bin/strata", import.meta.url).pathname;

function strata(args: readonly string[], dataDir: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, [...args, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, STRATA_DATA_DIR: dataDir },
    });
    let out = "";
    let err = "";
    let peakKiB = 0;
    const poll = setInterval(() => {
      readFile(`/proc/${proc.pid}/status`, "utf8").then(
        (status) => (peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0))),
        () => undefined,
      );
    }, 20);
    proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    proc.stderr.on("data", (c: Buffer) => (err += c.toString()));
    proc.on("error", reject);
    proc.on("close", (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`strata ${args.join(" ")} exited ${code}: ${err}`));
      const answer = JSON.parse(out) as { transfer: TransferStats; digest?: string };
      resolve({
        stats: answer.transfer,
        ...(answer.digest === undefined ? {} : { digest: answer.digest }),
        maxRssKiB: peakKiB,
      });
    });
  });
}

const push = (
  registry: string,
  repository: string,
  raw: string,
  tag: string,
  dataDir: string,
  base?: string,
) =>
  strata(
    [
      "disk",
      "push",
      raw,
      `${registry}/${repository}:${tag}`,
      ...(base === undefined ? [] : ["--base", base]),
    ],
    dataDir,
  );
const pull = (registry: string, repository: string, tag: string, output: string, dataDir: string) =>
  strata(["disk", "pull", `${registry}/${repository}:${tag}`, "--format", "raw", "-o", output], dataDir);

// ---- the second version's layer: 1% of the files' bytes rewritten ------------------------------
interface Layer {
  path: string;
  mediaType: string;
}

async function layoutLayers(ref: string): Promise<{ digest: string; layers: Layer[] }> {
  const m = /^oci-layout:(.+):([^:]+)$/.exec(ref);
  if (m === null) throw new Error(`--base must be oci-layout:PATH:TAG, got ${ref}`);
  const [, dir, tag] = m as unknown as [string, string, string];
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((d) => d.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (entry === undefined) throw new Error(`${ref}: no such tag`);
  const blob = (digest: string) => join(dir, "blobs", "sha256", digest.slice(7));
  const manifest = JSON.parse(await readFile(blob(entry.digest), "utf8")) as {
    layers: { digest: string; mediaType: string }[];
  };
  return {
    digest: entry.digest,
    layers: manifest.layers.map((l) => ({ path: blob(l.digest), mediaType: l.mediaType })),
  };
}

interface Patch {
  layer: Layer;
  files: number;
  bytes: number;
  total: number;
  what: string;
}

type FileMap = Map<string, { size: number; layer: string; links: string[] }>;
/** The layer each hard link is in. */
const linkLayer = new Map<string, string>();

/**
 * Regular files of the layers (the last layer's copy of each), with their sizes and the other
 * names (hard links) of the same file, which an upgrade keeps as links.
 */
async function listFiles(layers: readonly Layer[]): Promise<FileMap> {
  const files: FileMap = new Map();
  for (const layer of layers) {
    const { stdout } = await run("tar", ["-tvf", layer.path, "--numeric-owner"], { maxBuffer: 256 * MiB });
    for (const line of stdout.split("\n")) {
      const f = /^-\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
      if (f !== null) files.set(f[2] ?? "", { size: Number(f[1]), layer: layer.path, links: [] });
      const h = /^h\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+(.+) link to (.+)$/.exec(line);
      if (h !== null) {
        files.get(h[2] ?? "")?.links.push(h[1] ?? "");
        linkLayer.set(h[1] ?? "", layer.path);
      }
    }
  }
  return files;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function seeded(): () => number {
  let seed = 12345;
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/**
 * The files to rewrite: with "packages", whole Debian packages picked at random (from the dpkg
 * database in the image) until their files hold 1% of the files' bytes — an upgrade of a few
 * packages; with "files", single files picked at random, each as likely as any other (so mostly
 * small ones), until they hold 1% — the hardest spread of small changes.
 */
async function pickFiles(
  mode: "packages" | "files",
  files: FileMap,
  work: string,
): Promise<{ names: string[]; bytes: number; what: string }> {
  const names = [...files.keys()].sort();
  const total = names.reduce((sum, n) => sum + (files.get(n)?.size ?? 0), 0);
  const random = seeded();
  const picked = new Set<string>();
  let bytes = 0;
  if (mode === "files") {
    while (bytes < total * 0.01) {
      const name = names[Math.floor(random() * names.length)] ?? "";
      const size = files.get(name)?.size ?? 0;
      if (size === 0 || picked.has(name) || bytes + size > total * 0.011) continue;
      picked.add(name);
      for (const link of files.get(name)?.links ?? []) picked.add(link);
      bytes += size;
    }
    return { names: [...picked], bytes, what: `${picked.size} files picked at random` };
  }
  // Each package's files, from var/lib/dpkg/info/PACKAGE.list in the image.
  const lists = names.filter((n) => /^(\.\/)?var\/lib\/dpkg\/info\/[^/]+\.list$/.test(n));
  const dir = join(work, "dpkg-lists");
  await mkdir(dir, { recursive: true });
  for (const [layer, group] of groupBy(lists, (n) => files.get(n)?.layer ?? "")) {
    await writeFile(join(work, "lists.txt"), `${group.join("\n")}\n`);
    await run("tar", ["-xf", layer, "-C", dir, "-T", join(work, "lists.txt")]);
  }
  const prefix = names[0]?.startsWith("./") === true ? "./" : "";
  const packages: string[] = [];
  for (let tries = 0; bytes < total * 0.01 && tries < 100_000; tries++) {
    const name = lists[Math.floor(random() * lists.length)] ?? "";
    const pkg = /([^/]+)\.list$/.exec(name)?.[1] ?? "";
    if (packages.includes(pkg)) continue;
    const owned = (await readFile(join(dir, name), "utf8"))
      .split("\n")
      .map((p) => `${prefix}${p.replace(/^\//, "")}`)
      .filter((p) => (files.get(p)?.size ?? 0) > 0 && !picked.has(p));
    const size = owned.reduce((sum, p) => sum + (files.get(p)?.size ?? 0), 0);
    if (size === 0 || bytes + size > total * 0.011) continue;
    packages.push(pkg);
    for (const p of owned) for (const name of [p, ...(files.get(p)?.links ?? [])]) picked.add(name);
    bytes += size;
  }
  return {
    names: [...picked],
    bytes,
    what: `${packages.length} packages upgraded (${packages.join(", ")}): ${picked.size} files`,
  };
}

/** The second version's layer: the picked files rewritten whole (same size, new bytes). */
async function rewriteLayer(
  layers: readonly Layer[],
  work: string,
  mode: "packages" | "files",
): Promise<Patch> {
  const files = await listFiles(layers);
  const total = [...files.values()].reduce((sum, f) => sum + f.size, 0);
  const { names, bytes, what } = await pickFiles(mode, files, work);
  const tree = join(work, "v2-tree");
  await rm(tree, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  for (const [layer, group] of groupBy(names, (n) => files.get(n)?.layer ?? linkLayer.get(n) ?? "")) {
    await writeFile(join(work, "v2.list"), `${group.join("\n")}\n`);
    await run("tar", ["-xpf", layer, "-C", tree, "--numeric-owner", "-T", join(work, "v2.list")]);
  }
  const rewritten = new Set<number>();
  for (const name of names) {
    const path = join(tree, name);
    // Hard links are one file: rewritten once.
    const { ino } = await stat(path);
    if (rewritten.has(ino)) continue;
    rewritten.add(ino);
    const data = await readFile(path);
    for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ 0x5a;
    await writeFile(path, data);
  }
  await writeFile(join(work, "v2.list"), `${names.join("\n")}\n`);
  const out = join(work, `v2-${mode}.tar`);
  await run("tar", [
    "-cf",
    out,
    "-C",
    tree,
    "--numeric-owner",
    "--no-recursion",
    "-T",
    join(work, "v2.list"),
  ]);
  return {
    layer: { path: out, mediaType: "application/vnd.oci.image.layer.v1.tar" },
    files: names.length,
    bytes,
    total,
    what,
  };
}

// ---- reference figures ---------------------------------------------------------------------------
/** gzip -6 of the disk's non-zero bytes (holes left out) as one stream, and the chunking rate on one core. */
async function reference(
  raw: string,
): Promise<{ compressed: number; data: number; size: number; seconds: number; digest: string }> {
  const { chunkFile } = await import("../src/disk/chunked/chunker.ts");
  // One core: the chunker alone, hashing each chunk and the whole disk inline.
  const started = performance.now();
  const it = chunkFile(raw, { wholeDigest: "inline" });
  let data = 0;
  let step = await it.next();
  while (step.done !== true) {
    if (step.value.kind === "chunk") data += step.value.length;
    step = await it.next();
  }
  const seconds = (performance.now() - started) / 1000;
  const { size, digest } = step.value;
  // The compressed reference, outside the timing.
  const gzip = createGzip({ level: 6 });
  let compressed = 0;
  gzip.on("data", (c: Buffer) => (compressed += c.length));
  const ended = new Promise((resolve) => gzip.on("end", resolve));
  for await (const extent of chunkFile(raw)) {
    if (extent.kind === "chunk" && !gzip.write(extent.bytes)) await new Promise((r) => gzip.once("drain", r));
  }
  gzip.end();
  await ended;
  return { compressed, data, size, seconds, digest };
}

/**
 * Chunking plus hashing on one core, in memory: the disk's data (its non-zero 4 KiB blocks, read
 * 64 MiB at a time outside the timing) cut by FastCDC and each chunk hashed, as the chunker does.
 */
async function oneCore(raw: string): Promise<number> {
  const { checkSizes, cutPoint, DEFAULT_CHUNK_SIZES } = await import("../src/disk/chunked/fastcdc.ts");
  const { open } = await import("node:fs/promises");
  const masks = checkSizes(DEFAULT_CHUNK_SIZES);
  const handle = await open(raw, "r");
  const slice = Buffer.alloc(64 * MiB);
  const data = Buffer.alloc(64 * MiB);
  const zero = Buffer.alloc(4096);
  let seconds = 0;
  let bytes = 0;
  try {
    for (let at = 0; ; at += slice.length) {
      const { bytesRead } = await handle.read(slice, 0, slice.length, at);
      if (bytesRead === 0) break;
      let fill = 0;
      for (let b = 0; b < bytesRead; b += 4096)
        if (slice.compare(zero, 0, Math.min(4096, bytesRead - b), b, Math.min(b + 4096, bytesRead)) !== 0)
          fill += slice.copy(data, fill, b, Math.min(b + 4096, bytesRead));
      const started = performance.now();
      for (let start = 0; start < fill;) {
        const end = cutPoint(data, start, fill, DEFAULT_CHUNK_SIZES, masks);
        createHash("sha256").update(data.subarray(start, end)).digest("hex");
        start = end;
      }
      seconds += (performance.now() - started) / 1000;
      bytes += fill;
    }
  } finally {
    await handle.close();
  }
  return bytes / MiB / seconds;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  const { createReadStream } = await import("node:fs");
  for await (const c of createReadStream(path, { highWaterMark: 8 * MiB })) hash.update(c as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

interface Version {
  raw: string;
  qcow2: number;
  digest: string;
}

async function build(
  layers: readonly Layer[],
  digest: string,
  outDir: string,
  label: string,
): Promise<Version> {
  const { buildDisk } = await import("../src/disk/index.ts");
  const started = performance.now();
  const built = await buildDisk(
    { digest, layers },
    { boot: "bios", formats: ["raw", "qcow2"], size: 2048 * MiB, outDir, seed: "bench/debian-vm" },
  );
  const qcow2 = built.files.find((f) => f.format === "qcow2")?.size ?? 0;
  console.log(`Built ${label} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${built.rawDigest}`);
  return { raw: join(outDir, "disk.raw"), qcow2, digest: built.rawDigest };
}

const rss = (r: ChildResult) => `peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`;
const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

async function main(): Promise<void> {
  const keep = arg("--keep");
  const work = keep ?? (await mkdtemp(join(tmpdir(), "strata-bench-disk-")));
  await mkdir(work, { recursive: true });
  const server = await startStrata();
  const rssSeen: number[] = [];
  let allPass = true;
  try {
    let base = arg("--base");
    if (base === undefined) {
      console.log("Making the bootable Debian base image (mmdebstrap; not timed)…");
      await buildDebianBase(join(work, "base"), "debian-vm", { bootable: true });
      base = `oci-layout:${join(work, "base")}:debian-vm`;
    }
    const source = await layoutLayers(base);
    const v1 = await build(source.layers, source.digest, join(work, "v1"), "v1");

    const ref = await reference(v1.raw);
    const core = await oneCore(v1.raw);
    console.log(
      `\nDisk: ${fmt(ref.size)} virtual, ${fmt(ref.data)} of it data (the rest holes); gzip -6 of the data as one stream: ${fmt(ref.compressed)}; one qcow2 blob: ${fmt(v1.qcow2)}`,
    );
    console.log(
      `Chunking + hashing each chunk, one core, in memory: ${core.toFixed(0)} MiB/s of data (target ≥ 300) ${verdict(core >= 300)}`,
    );
    allPass &&= core >= 300;
    console.log(
      `The whole pass over the file (reads, holes, chunks, each chunk's and the whole disk's sha256), one core: ${ref.seconds.toFixed(2)} s = ${(ref.size / MiB / ref.seconds).toFixed(0)} MiB/s of disk, ${(ref.data / MiB / ref.seconds).toFixed(0)} MiB/s of data`,
    );

    const registry = server.host;
    for (const mode of ["packages", "files"] as const) {
      const patch = await rewriteLayer(source.layers, work, mode);
      console.log(
        `\n== Second version: ${patch.what}, ${fmt(patch.bytes)} of ${fmt(patch.total)} rewritten (${pct(patch.bytes, patch.total)} of the files' bytes)`,
      );
      const v2 = await build(
        [...source.layers, patch.layer],
        `${source.digest}+${mode}`,
        join(work, `v2-${mode}`),
        "v2",
      );
      const repository = `bench/disk-${mode}`;
      const pushCache = join(work, `push-data-${mode}`);
      const p1 = await push(registry, repository, v1.raw, "1", pushCache);
      // Against the first version, whose raw chunks the first push kept in the cache: changed
      // chunks go as deltas.
      const p2 = await push(registry, repository, v2.raw, "2", pushCache, "1");
      const firstRatio = p1.stats.bytesSent / ref.compressed;
      console.log(
        `Push v1: ${fmt(p1.stats.bytesSent)} (${p1.stats.uniqueChunks} chunks, manifests and index included) in ${p1.stats.seconds.toFixed(1)} s = ${firstRatio.toFixed(4)}× the compressed data (target ≤ 1.02) ${verdict(firstRatio <= 1.02)}; ${rss(p1)}`,
      );
      const pushShare = p2.stats.bytesSent / p1.stats.bytesSent;
      const deltas = (p2.stats as TransferStats & { chunksDelta?: number }).chunksDelta ?? 0;
      console.log(
        `Push v2: ${fmt(p2.stats.bytesSent)} (${p2.stats.chunksSent} of ${p2.stats.uniqueChunks} chunks, ${deltas} of them as deltas against v1) in ${p2.stats.seconds.toFixed(1)} s = ${pct(p2.stats.bytesSent, p1.stats.bytesSent)} of the first push (target ≤ 3%) ${verdict(pushShare <= 0.03)}; one qcow2 blob: ${fmt(v2.qcow2)} = 100% again; ${rss(p2)}`,
      );
      const pullCache = join(work, `pull-data-${mode}`);
      const q1 = await pull(registry, repository, "1", join(work, "pull-v1.raw"), pullCache);
      const q2 = await pull(registry, repository, "2", join(work, "pull-v2.raw"), pullCache);
      const pullShare = q2.stats.bytesSent / q1.stats.bytesSent;
      console.log(
        `Pull v1, empty cache: ${fmt(q1.stats.bytesSent)} in ${q1.stats.seconds.toFixed(1)} s; ${rss(q1)}`,
      );
      console.log(
        `Pull v2, v1 cached: ${fmt(q2.stats.bytesSent)} in ${q2.stats.seconds.toFixed(1)} s = ${pct(q2.stats.bytesSent, q1.stats.bytesSent)} of the first pull (target ≤ 3%) ${verdict(pullShare <= 0.03)}; ${rss(q2)}`,
      );
      for (const [label, path, want] of [
        ["v1", join(work, "pull-v1.raw"), v1.digest],
        ["v2", join(work, "pull-v2.raw"), v2.digest],
      ] as const) {
        const got = await sha256(path);
        const { blocks, size } = await stat(path);
        console.log(
          `  pulled ${label}: ${got === want ? "same digest" : `DIGEST MISMATCH ${got}`}, ${fmt(blocks * 512)} allocated of ${fmt(size)}`,
        );
        allPass &&= got === want;
      }
      rssSeen.push(p1.maxRssKiB, p2.maxRssKiB, q1.maxRssKiB, q2.maxRssKiB);
      if (mode === "packages") {
        allPass &&= firstRatio <= 1.02 && pushShare <= 0.03 && pullShare <= 0.03;
        const warm = await pull(registry, repository, "2", join(work, "pull-v2-warm.raw"), pullCache);
        const warmRate = ref.size / MiB / warm.stats.seconds;
        console.log(
          `Reassembly from a warm cache: ${warm.stats.seconds.toFixed(2)} s = ${warmRate.toFixed(0)} MiB/s of disk, ${(ref.data / MiB / warm.stats.seconds).toFixed(0)} MiB/s of data (target ≥ 500) ${verdict(warmRate >= 500)}; ${fmt(warm.stats.bytesSent)} downloaded; ${rss(warm)}`,
        );
        allPass &&= warmRate >= 500;
        rssSeen.push(warm.maxRssKiB);
      }
      await rm(join(work, "pull-v1.raw"), { force: true });
      await rm(join(work, "pull-v2.raw"), { force: true });
    }
    const peak = Math.max(...rssSeen) / 1024;
    console.log(
      `\nPeak RSS of any push or pull: ${peak.toFixed(0)} MiB (target ≤ 200) ${verdict(peak <= 200)}`,
    );
    allPass &&= peak <= 200;
    console.log(allPass ? "All targets met (the packages patch is the one judged)." : "Some targets missed.");
  } finally {
    await server.stop();
    if (keep === undefined) await rm(work, { recursive: true, force: true });
  }
}

await main();
