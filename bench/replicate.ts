// `npm run bench:replicate`: a `strata serve` replicating a ~200 MiB image of incompressible
// layers to Debian's docker-registry as a `kind: registry` site, beside `skopeo copy` of the same
// image from the same server to a fresh repository of the same registry, in the same run. A
// counting proxy in front of the registry measures the bytes each sends. Two cases:
//
// - fresh: nothing of the image at the site; time of each, and the ratio (target: Strata no
//   slower, ratio ≥ 1.0).
// - top: the base layers already at the site; the bytes Strata sends against the bytes the site
//   lacked (target ≤ 1.01×).
//
//   npm run bench:replicate [-- --mib 200] [-- --rounds 2]
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import tar from "tar-stream";
import { RegistryClient } from "../src/remote/index.ts";
import { startDistribution } from "../test/helpers/distribution.ts";
import { blobBytesIn, startSiteProxy, type SiteProxy } from "../test/helpers/site-proxy.ts";
import { startStrata, type RunningStrata } from "../test/helpers/strata-server.ts";

const run = promisify(execFile);
const MiB = 1024 * 1024;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const TOTAL_MIB = Number(arg("--mib") ?? 200);
const ROUNDS = Number(arg("--rounds") ?? 2);
const LAYERS = 8;

interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}

interface Image {
  readonly layers: Blob[];
  readonly config: Blob;
  readonly manifest: Buffer;
}

const sha = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** A tar holding one file of `size` random bytes. */
async function randomLayer(name: string, size: number): Promise<Blob> {
  const pack = tar.pack();
  const parts: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => parts.push(c as Buffer));
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  pack.entry({ name, size, mtime: new Date(0) }, randomBytes(size));
  pack.finalize();
  await done;
  const bytes = Buffer.concat(parts);
  return { digest: sha(bytes), bytes };
}

function image(layers: Blob[]): Image {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha(config),
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: l.digest,
        size: l.bytes.length,
      })),
    }),
  );
  return { layers, config: { digest: sha(config), bytes: config }, manifest };
}

const bytesOf = (blobs: readonly Blob[]) => blobs.reduce((sum, b) => sum + b.bytes.length, 0);

async function push(host: string, repository: string, img: Image, tag: string): Promise<void> {
  const client = new RegistryClient({ registry: host, insecure: true });
  for (const blob of [img.config, ...img.layers])
    await client.putBlob(repository, { digest: blob.digest, size: blob.bytes.length, bytes: blob.bytes });
  await client.putManifest(repository, tag, img.manifest, "application/vnd.oci.image.manifest.v1+json");
}

async function api(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

/** Publishes `img` as NAME 1.0.0, then times its replication to the site from the target change. */
async function replicate(
  source: RunningStrata,
  proxy: SiteProxy,
  name: string,
  img: Image,
): Promise<{ seconds: number; bytes: number; bytesTotal: number }> {
  await api(source.url, "POST", "/galleries/bench/images", { name, kind: "container" });
  await push(source.host, `bench/${name}`, img, "build");
  await api(source.url, "POST", `/galleries/bench/images/${name}/versions`, {
    version: "1.0.0",
    from: `bench/${name}:build`,
  });
  const from = proxy.exchanges.length;
  const path = `/galleries/bench/images/${name}/versions/1.0.0/replication`;
  const started = process.hrtime.bigint();
  await api(source.url, "PUT", path, { sites: ["dr"] });
  for (;;) {
    const [row] = (await api(source.url, "GET", path)) as {
      state: string;
      bytesTotal: number;
      error?: string;
    }[];
    if (row?.state === "completed") {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      return { seconds, bytes: blobBytesIn(proxy.exchanges.slice(from)), bytesTotal: row.bytesTotal };
    }
    if (row?.state === "failed") throw new Error(`Replication of ${name} failed: ${row.error ?? ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function skopeo(source: RunningStrata, proxy: SiteProxy, name: string) {
  const from = proxy.exchanges.length;
  const started = process.hrtime.bigint();
  await run("skopeo", [
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    `docker://${source.host}/bench/${name}:build`,
    `docker://${proxy.host}/skopeo/${name}:1.0.0`,
  ]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes: blobBytesIn(proxy.exchanges.slice(from)) };
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const registry = await startDistribution();
  const proxy = await startSiteProxy(registry.url);
  const source = await startStrata({
    config: [
      "log: { level: warn }",
      "sites:",
      `  dr: { url: "${proxy.url}", kind: registry, repositoryPrefix: mirror }`,
      "",
    ].join("\n"),
  });
  let ok = true;
  try {
    await api(source.url, "POST", "/galleries", { name: "bench" });
    const layerSize = Math.floor((TOTAL_MIB * MiB) / LAYERS);
    console.log(`Image: ${LAYERS} layers of ${mib(layerSize)} of random bytes; ${ROUNDS} round(s)\n`);
    console.log("fresh site (nothing there)   strata         skopeo copy    ratio (skopeo/strata time)");
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const layers = await Promise.all(
        Array.from({ length: LAYERS }, (_, i) => randomLayer(`r${round}-${i}.bin`, layerSize)),
      );
      const img = image(layers);
      const name = `full-${round}`;
      // Alternate who goes first, so neither always meets a warmer registry.
      let strata: Awaited<ReturnType<typeof replicate>>;
      let peer: Awaited<ReturnType<typeof skopeo>>;
      if (round % 2 === 1) {
        strata = await replicate(source, proxy, name, img);
        peer = await skopeo(source, proxy, name);
      } else {
        await api(source.url, "POST", "/galleries/bench/images", { name, kind: "container" });
        await push(source.host, `bench/${name}`, img, "build");
        peer = await skopeo(source, proxy, name);
        await api(source.url, "DELETE", `/galleries/bench/images/${name}`);
        strata = await replicate(source, proxy, name, img);
      }
      const ratio = peer.seconds / strata.seconds;
      ratios.push(ratio);
      console.log(
        `  round ${round}: ${mib(bytesOf([img.config, ...layers]))}`.padEnd(29) +
          `${strata.seconds.toFixed(2)} s`.padEnd(15) +
          `${peer.seconds.toFixed(2)} s`.padEnd(15) +
          `${ratio.toFixed(2)}×   (sent: strata ${mib(strata.bytes)}, skopeo ${mib(peer.bytes)})`,
      );
    }
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? 0;
    const fast = median >= 1.0;
    ok &&= fast;
    console.log(`  median ratio ${median.toFixed(2)}× (target ≥ 1.00×): ${fast ? "met" : "NOT MET"}\n`);

    // The base (six of eight layers) already at the site, in the repository the version lands in.
    const layers = await Promise.all(
      Array.from({ length: LAYERS }, (_, i) => randomLayer(`top-${i}.bin`, layerSize)),
    );
    const base = image(layers.slice(0, LAYERS - 2));
    await push(registry.host, "mirror/bench/top", base, "base");
    const img = image(layers);
    const missing = bytesOf([img.config, ...layers.slice(LAYERS - 2)]);
    const top = await replicate(source, proxy, "top", img);
    const factor = top.bytes / missing;
    const lean = factor <= 1.01;
    ok &&= lean;
    console.log("base layers already at the site");
    console.log(
      `  missing ${mib(missing)} of ${mib(bytesOf([img.config, ...layers]))}; received ${mib(top.bytes)} ` +
        `(${top.bytes} bytes, reported bytesTotal ${top.bytesTotal}) in ${top.seconds.toFixed(2)} s`,
    );
    console.log(`  received / missing ${factor.toFixed(4)}× (target ≤ 1.01×): ${lean ? "met" : "NOT MET"}`);
  } finally {
    await source.stop();
    await proxy.close();
    await registry.stop();
  }
  if (!ok) process.exitCode = 1;
}

await main();
