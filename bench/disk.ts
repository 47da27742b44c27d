// `npm run bench:disk`: what a chunked VM disk costs to move. Two versions of a 2 GiB Debian disk
// (about 670 MiB of system) are built from the bootable base image: the first as is, the second
// after 1% of the files' bytes were rewritten across the tree (files picked at random with a fixed
// seed; each picked file rewritten whole, same size). Both are pushed to a Strata server on
// loopback and pulled back, each push and pull in a process of its own so its peak RSS is its own.
// Printed beside each figure: what one whole qcow2 blob per version (the older disk artifact, and
// what registries and galleries move today) costs. Targets: first push ≤ 1.02× the compressed
// non-zero bytes (gzip -6 of the disk without its holes, as one stream); the second version ≤ 3%
// of the first push, on push and on pull with the first version cached; chunking plus hashing
// ≥ 300 MiB/s on one core; reassembly from a warm cache ≥ 500 MiB/s; peak RSS ≤ 200 MiB.
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
import { startStrata } from "../test/helpers/strata-server.ts";

const run = promisify(execFile);
const MiB = 2 ** 20;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const fmt = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(2)}%`;

interface Stats {
  chunks: number;
  uniqueChunks: number;
  chunksSent: number;
  chunkBytesSent: number;
  bytesSent: number;
  bytesSkipped: number;
  seconds: number;
}
interface ChildResult {
  stats: Stats;
  digest?: string;
  maxRssKiB: number;
}

// ---- the child: one push or one pull, reporting its stats and peak RSS -------------------------
async function child(): Promise<void> {
  const [step, registry, repository, ...rest] = process.argv.slice(process.argv.indexOf("--child") + 1);
  const { RegistryClient } = await import("../src/remote/index.ts");
  const disk = await import("../src/disk/index.ts");
  const client = new RegistryClient({ registry: registry ?? "" });
  let result: { stats: Stats; digest?: string };
  if (step === "push") {
    const [raw, tag, cacheDir] = rest as [string, string, string];
    const pushed = await disk.pushChunkedDisk(
      client,
      repository ?? "",
      raw,
      { boot: "bios" },
      { tag, cacheDir },
    );
    result = { stats: pushed.stats, digest: pushed.digest };
  } else {
    const [tag, output, cacheDir] = rest as [string, string, string];
    const description = await disk.fetchDisk(client, repository ?? "", tag);
    if (description.layout !== "chunked") throw new Error(`${tag} is not a chunked disk`);
    const pulled = await disk.pullChunkedDisk(client, repository ?? "", description, output, { cacheDir });
    result = { stats: pulled.stats };
  }
  process.stdout.write(`${JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

function inChild(args: readonly string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [...process.execArgv, new URL(import.meta.url).pathname, "--child", ...args],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    proc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    proc.on("error", reject);
    proc.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as ChildResult)
        : reject(new Error(`${args[0]} exited ${code}`)),
    );
  });
}

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

async function rewriteLayer(
  layers: readonly Layer[],
  work: string,
): Promise<{ layer: Layer; files: number; bytes: number; total: number }> {
  const files = new Map<string, { size: number; layer: string }>();
  for (const layer of layers) {
    const { stdout } = await run("tar", ["-tvf", layer.path, "--numeric-owner"], { maxBuffer: 256 * MiB });
    for (const line of stdout.split("\n")) {
      const f = /^-\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
      if (f !== null) files.set(f[2] ?? "", { size: Number(f[1]), layer: layer.path });
    }
  }
  const names = [...files.keys()].sort();
  const total = names.reduce((sum, n) => sum + (files.get(n)?.size ?? 0), 0);
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const picked = new Map<string, string[]>();
  let bytes = 0;
  let count = 0;
  while (bytes < total * 0.01) {
    const name = names[Math.floor(random() * names.length)] ?? "";
    const file = files.get(name);
    if (file === undefined || file.size === 0 || bytes + file.size > total * 0.011) continue;
    const list = picked.get(file.layer) ?? [];
    if (list.includes(name)) continue;
    list.push(name);
    picked.set(file.layer, list);
    bytes += file.size;
    count++;
  }
  const tree = join(work, "v2-tree");
  await mkdir(tree, { recursive: true });
  const all: string[] = [];
  for (const [layer, list] of picked) {
    await writeFile(join(work, "v2.list"), `${list.join("\n")}\n`);
    await run("tar", ["-xpf", layer, "-C", tree, "--numeric-owner", "-T", join(work, "v2.list")]);
    all.push(...list);
  }
  for (const name of all) {
    const path = join(tree, name);
    const data = await readFile(path);
    for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ 0x5a;
    await writeFile(path, data);
  }
  await writeFile(join(work, "v2.list"), `${all.join("\n")}\n`);
  const out = join(work, "v2-layer.tar");
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
    files: count,
    bytes,
    total,
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
  const it = chunkFile(raw);
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

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  const { createReadStream } = await import("node:fs");
  for await (const c of createReadStream(path, { highWaterMark: 8 * MiB })) hash.update(c as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

async function main(): Promise<void> {
  const keep = arg("--keep");
  const work = keep ?? (await mkdtemp(join(tmpdir(), "strata-bench-disk-")));
  await mkdir(work, { recursive: true });
  const server = await startStrata();
  try {
    let base = arg("--base");
    if (base === undefined) {
      console.log("Making the bootable Debian base image (mmdebstrap; not timed)…");
      await buildDebianBase(join(work, "base"), "debian-vm", { bootable: true });
      base = `oci-layout:${join(work, "base")}:debian-vm`;
    }
    const source = await layoutLayers(base);
    const patch = await rewriteLayer(source.layers, work);
    console.log(
      `Second version: ${patch.files} files rewritten, ${fmt(patch.bytes)} of ${fmt(patch.total)} (${pct(patch.bytes, patch.total)} of the files' bytes)`,
    );
    const { buildDisk } = await import("../src/disk/index.ts");
    const versions: { raw: string; qcow2: number; digest: string }[] = [];
    for (const [i, layers] of [source.layers, [...source.layers, patch.layer]].entries()) {
      const outDir = join(work, `v${i + 1}`);
      const started = performance.now();
      const built = await buildDisk(
        { digest: i === 0 ? source.digest : `${source.digest}+patch`, layers },
        { boot: "bios", formats: ["raw", "qcow2"], size: 2048 * MiB, outDir, seed: "bench/debian-vm" },
      );
      const qcow2 = built.files.find((f) => f.format === "qcow2")?.size ?? 0;
      console.log(
        `Built v${i + 1} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${built.rawDigest}, qcow2 ${fmt(qcow2)}`,
      );
      versions.push({ raw: join(outDir, "disk.raw"), qcow2, digest: built.rawDigest });
    }
    const [v1, v2] = versions as [(typeof versions)[0], (typeof versions)[0]];

    const ref = await reference(v1.raw);
    console.log(
      `\nDisk: ${fmt(ref.size)} virtual, ${fmt(ref.data)} of it data (not holes); gzip -6 of the data: ${fmt(ref.compressed)}`,
    );
    const oneCore = ref.data / MiB / ref.seconds;
    console.log(
      `Chunking + hashing (each chunk and the whole disk), one core: ${ref.seconds.toFixed(2)} s = ${(ref.size / MiB / ref.seconds).toFixed(0)} MiB/s of disk, ${oneCore.toFixed(0)} MiB/s of data (target ≥ 300) ${oneCore >= 300 ? "PASS" : "FAIL"}`,
    );

    const registry = server.host;
    const pushCache = join(work, "push-cache");
    const p1 = await inChild(["push", registry, "bench/disk", v1.raw, "1", pushCache]);
    const p2 = await inChild(["push", registry, "bench/disk", v2.raw, "2", pushCache]);
    const firstRatio = p1.stats.bytesSent / ref.compressed;
    console.log(
      `\nPush v1: ${fmt(p1.stats.bytesSent)} in ${p1.stats.seconds.toFixed(1)} s (${p1.stats.uniqueChunks} chunks), ${firstRatio.toFixed(3)}× the compressed data (target ≤ 1.02) ${firstRatio <= 1.02 ? "PASS" : "FAIL"}; peak RSS ${(p1.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    console.log(`        one qcow2 blob: ${fmt(v1.qcow2)}`);
    const pushShare = p2.stats.bytesSent / p1.stats.bytesSent;
    console.log(
      `Push v2: ${fmt(p2.stats.bytesSent)} in ${p2.stats.seconds.toFixed(1)} s (${p2.stats.chunksSent} of ${p2.stats.uniqueChunks} chunks sent) = ${pct(p2.stats.bytesSent, p1.stats.bytesSent)} of the first push (target ≤ 3%) ${pushShare <= 0.03 ? "PASS" : "FAIL"}; peak RSS ${(p2.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    console.log(`        one qcow2 blob: ${fmt(v2.qcow2)} (100% of a whole disk again)`);

    const pullCache = join(work, "pull-cache");
    const q1 = await inChild(["pull", registry, "bench/disk", "1", join(work, "pull-v1.raw"), pullCache]);
    const q2 = await inChild(["pull", registry, "bench/disk", "2", join(work, "pull-v2.raw"), pullCache]);
    const pullShare = q2.stats.bytesSent / q1.stats.bytesSent;
    console.log(
      `\nPull v1 (empty cache): ${fmt(q1.stats.bytesSent)} in ${q1.stats.seconds.toFixed(1)} s; peak RSS ${(q1.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    console.log(
      `Pull v2 (v1 cached): ${fmt(q2.stats.bytesSent)} in ${q2.stats.seconds.toFixed(1)} s = ${pct(q2.stats.bytesSent, q1.stats.bytesSent)} of the first pull (target ≤ 3%) ${pullShare <= 0.03 ? "PASS" : "FAIL"}; peak RSS ${(q2.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    const warm = await inChild(["pull", registry, "bench/disk", "2", join(work, "pull-v2b.raw"), pullCache]);
    const warmRate = ref.size / MiB / warm.stats.seconds;
    console.log(
      `Reassembly from a warm cache: ${warm.stats.seconds.toFixed(2)} s = ${warmRate.toFixed(0)} MiB/s of disk, ${(ref.data / MiB / warm.stats.seconds).toFixed(0)} MiB/s of data (target ≥ 500) ${warmRate >= 500 ? "PASS" : "FAIL"}; ${fmt(warm.stats.bytesSent)} downloaded; peak RSS ${(warm.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    for (const [label, path, want] of [
      ["v1", join(work, "pull-v1.raw"), v1.digest],
      ["v2", join(work, "pull-v2.raw"), v2.digest],
    ] as const) {
      const got = await sha256(path);
      const { blocks, size } = await stat(path);
      console.log(
        `Pulled ${label}: ${got === want ? "same digest" : `DIGEST MISMATCH ${got}`}, ${fmt(blocks * 512)} allocated of ${fmt(size)}`,
      );
    }
    const peak = Math.max(p1.maxRssKiB, p2.maxRssKiB, q1.maxRssKiB, q2.maxRssKiB, warm.maxRssKiB) / 1024;
    console.log(
      `\nPeak RSS of any push or pull: ${peak.toFixed(0)} MiB (target ≤ 200) ${peak <= 200 ? "PASS" : "FAIL"}`,
    );
  } finally {
    await server.stop();
    if (keep === undefined) await rm(work, { recursive: true, force: true });
  }
}

if (process.argv.includes("--child")) await child();
else await main();
