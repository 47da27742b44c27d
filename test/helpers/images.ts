// Deterministic OCI test images: tar layers built with tar-stream and gzipped, configs with valid
// diff_ids, manifests, two-platform indexes, and an OCI image layout writer/reader for tools such
// as skopeo and umoci. The same seed always gives the same bytes.
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { MediaType } from "../../src/oci/index.ts";

/** Every timestamp in generated content: the epoch, so bytes never depend on the clock. */
export const EPOCH = new Date(0);
const EPOCH_TEXT = "1970-01-01T00:00:00Z";

export interface LayerEntry {
  readonly name: string;
  readonly type: "file" | "directory" | "symlink";
  readonly content?: Buffer;
  readonly linkname?: string;
  readonly mode?: number;
}

export interface Layer {
  readonly tar: Buffer;
  /** The gzipped tar: the blob a registry stores. */
  readonly blob: Buffer;
  readonly digest: string;
  /** sha256 of the uncompressed tar, as listed in the config's rootfs.diff_ids. */
  readonly diffId: string;
}

/** Content a registry holds under one manifest: the manifest itself and every blob it needs. */
export interface OciContent {
  readonly mediaType: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
  /** Config and layer blobs; for an index also each child manifest and its blobs. */
  readonly blobs: Map<string, Buffer>;
}

export interface TestImage extends OciContent {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly layers: readonly Layer[];
}

export interface TestIndex extends OciContent {
  readonly images: readonly TestImage[];
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Mulberry32: a small, fast, seeded PRNG; enough for reproducible test bytes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function randomBytesFrom(next: () => number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) buf.writeUInt32LE(next(), i);
  for (; i < size; i++) buf[i] = next() & 0xff;
  return buf;
}

/** A tar of the entries in the given order, root-owned, every mtime the epoch. */
export async function buildTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const header = {
      name: entry.name,
      type: entry.type,
      mode: entry.mode ?? (entry.type === "file" ? 0o644 : 0o755),
      mtime: EPOCH,
      uid: 0,
      gid: 0,
      uname: "root",
      gname: "root",
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (entry.type === "file")
        tar.entry({ ...header, size: entry.content?.length ?? 0 }, entry.content ?? Buffer.alloc(0), done);
      else if (entry.type === "symlink") tar.entry({ ...header, linkname: entry.linkname ?? "" }, done);
      else tar.entry(header, done);
    });
  }
  tar.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export async function buildLayer(entries: readonly LayerEntry[]): Promise<Layer> {
  const tar = await buildTar(entries);
  // gzip output depends only on input and level (mtime 0 in the header), so it is reproducible.
  const blob = gzipSync(tar, { level: 6 });
  return { tar, blob, digest: sha256(blob), diffId: sha256(tar) };
}

export interface ImageOptions {
  readonly layers: readonly Layer[];
  readonly platform?: Platform;
  /** The config's `config` section (Cmd, Env, WorkingDir …). */
  readonly execution?: Record<string, unknown>;
  readonly annotations?: Record<string, string>;
}

/** Assembles config and manifest (OCI media types) around already-built layers. */
export function buildImage(options: ImageOptions): TestImage {
  const platform = options.platform ?? { os: "linux", architecture: "amd64" };
  const config = Buffer.from(
    JSON.stringify({
      created: EPOCH_TEXT,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      config: options.execution ?? {},
      rootfs: { type: "layers", diff_ids: options.layers.map((l) => l.diffId) },
      history: options.layers.map((_, i) => ({
        created: EPOCH_TEXT,
        created_by: `strata test layer ${i}`,
      })),
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: configDigest, size: config.length },
      layers: options.layers.map((l) => ({
        mediaType: MediaType.ImageLayerGzip,
        digest: l.digest,
        size: l.blob.length,
      })),
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    }),
  );
  const blobs = new Map<string, Buffer>([[configDigest, config]]);
  for (const layer of options.layers) blobs.set(layer.digest, layer.blob);
  return {
    mediaType: MediaType.ImageManifest,
    manifest,
    manifestDigest: sha256(manifest),
    config,
    configDigest,
    layers: options.layers,
    blobs,
  };
}

export interface RandomImageOptions {
  readonly seed: number;
  /** Number of layers (default 2). */
  readonly layers?: number;
  /** Bytes of file content per layer (default 4096). */
  readonly size?: number;
  readonly platform?: Platform;
}

/** A reproducible image of random file content: same options, same digests. */
export async function randomImage(options: RandomImageOptions): Promise<TestImage> {
  const next = prng(options.seed);
  const size = options.size ?? 4096;
  const layers: Layer[] = [];
  for (let i = 0; i < (options.layers ?? 2); i++) {
    const half = Math.floor(size / 2);
    layers.push(
      await buildLayer([
        { name: `layer${i}/`, type: "directory" },
        { name: `layer${i}/a.bin`, type: "file", content: randomBytesFrom(next, half) },
        { name: `layer${i}/b.bin`, type: "file", content: randomBytesFrom(next, size - half) },
      ]),
    );
  }
  return buildImage({
    layers,
    ...(options.platform === undefined ? {} : { platform: options.platform }),
    execution: { Env: [`STRATA_SEED=${options.seed}`] },
  });
}

/** An OCI image index over the given images, each entry carrying its config's platform. */
export function buildIndex(images: readonly { image: TestImage; platform: Platform }[]): TestIndex {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageIndex,
      manifests: images.map(({ image, platform }) => ({
        mediaType: image.mediaType,
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform,
      })),
    }),
  );
  const blobs = new Map<string, Buffer>();
  for (const { image } of images) {
    blobs.set(image.manifestDigest, image.manifest);
    for (const [digest, bytes] of image.blobs) blobs.set(digest, bytes);
  }
  return {
    mediaType: MediaType.ImageIndex,
    manifest,
    manifestDigest: sha256(manifest),
    blobs,
    images: images.map((i) => i.image),
  };
}

/** A two-platform index (linux/amd64 and linux/arm64) of random images. */
export async function randomIndex(options: Omit<RandomImageOptions, "platform">): Promise<TestIndex> {
  const platforms: Platform[] = [
    { os: "linux", architecture: "amd64" },
    { os: "linux", architecture: "arm64" },
  ];
  const images = [];
  for (const [i, platform] of platforms.entries()) {
    images.push({
      image: await randomImage({ ...options, seed: options.seed * 31 + i + 1, platform }),
      platform,
    });
  }
  return buildIndex(images);
}

export const REF_NAME = "org.opencontainers.image.ref.name";

/**
 * Writes an OCI image layout: `oci-layout`, `index.json` (one entry per content, named by the
 * tag at the same position through the ref.name annotation) and `blobs/sha256/…`.
 */
export async function writeOciLayout(
  dir: string,
  contents: readonly OciContent[],
  options: { tags: readonly string[] },
): Promise<void> {
  if (options.tags.length !== contents.length) throw new Error("writeOciLayout needs one tag per content");
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const manifests = [];
  for (const [i, content] of contents.entries()) {
    const all = new Map(content.blobs).set(content.manifestDigest, content.manifest);
    for (const [digest, bytes] of all) await writeFile(join(blobDir, digest.slice("sha256:".length)), bytes);
    manifests.push({
      mediaType: content.mediaType,
      digest: content.manifestDigest,
      size: content.manifest.length,
      annotations: { [REF_NAME]: options.tags[i] },
    });
  }
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }),
  );
}

export interface LayoutEntry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
}

/** The manifests an OCI layout's index.json lists. */
export async function readLayoutIndex(dir: string): Promise<LayoutEntry[]> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: LayoutEntry[] };
  return index.manifests;
}

/** The descriptor index.json gives for a tag; throws when the tag is not there. */
export async function layoutEntry(dir: string, tag: string): Promise<LayoutEntry> {
  const entry = (await readLayoutIndex(dir)).find((m) => m.annotations?.[REF_NAME] === tag);
  if (entry === undefined) throw new Error(`No manifest tagged "${tag}" in the OCI layout at "${dir}"`);
  return entry;
}

/** Every blob file of an OCI layout by digest, each checked against its file name. */
export async function readLayoutBlobs(dir: string): Promise<Map<string, Buffer>> {
  const blobDir = join(dir, "blobs", "sha256");
  const blobs = new Map<string, Buffer>();
  for (const name of (await readdir(blobDir)).sort()) {
    const bytes = await readFile(join(blobDir, name));
    const digest = `sha256:${name}`;
    if (sha256(bytes) !== digest) throw new Error(`Blob "${digest}" in "${dir}" does not match its digest`);
    blobs.set(digest, bytes);
  }
  return blobs;
}
