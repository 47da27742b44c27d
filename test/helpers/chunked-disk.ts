// Chunked disks for tests, made without the push client: chunk blobs from raw bytes
// (encodeChunk), the index blob and the manifests from the format (buildChunkedArtifact), pushed
// and read back through the registry API of an in-process server (Fastify's inject()).
import { createHash } from "node:crypto";
import type { FastifyInstance, InjectOptions } from "fastify";
import { decodeChunk, encodeChunk } from "../../src/disk/chunked/compress.ts";
import { applyDelta, encodeDelta } from "../../src/disk/chunked/delta.ts";
import { DEFAULT_CHUNK_SIZES } from "../../src/disk/chunked/fastcdc.ts";
import {
  buildChunkedArtifact,
  chunkedLayout,
  decodeIndex,
  EMPTY_CONFIG,
  indexBlobOf,
  PART_AVG,
  type BuiltManifest,
  type ChunkedArtifact,
  type ChunkEntry,
  type DiskIndex,
} from "../../src/disk/chunked/format.ts";
import { digestOf, MediaType, parseManifest, type Digest, type ImageIndex } from "../../src/oci/index.ts";
import { basic } from "./gallery.ts";

export interface TestBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly bytes: Buffer;
}

export interface ChunkedDisk {
  /** The image index: what a version pins. */
  readonly digest: Digest;
  readonly artifact: ChunkedArtifact;
  readonly index: DiskIndex;
  /** The raw disk the extents tile. */
  readonly raw: Buffer;
  /** The chunk blobs as stored, in the index's order. */
  readonly chunks: readonly TestBlob[];
  /** Every blob the manifests name: the empty config, the index blob, the chunks. */
  readonly blobs: readonly TestBlob[];
  /** Every manifest: the index manifest, the parts, then the image index. */
  readonly manifests: readonly BuiltManifest[];
}

/** `length` bytes that follow from `seed` (sha256 in counter mode): incompressible. */
function seeded(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, offset = 0; offset < length; i++, offset += 32)
    createHash("sha256").update(`${seed}/${i}`).digest().copy(out, offset);
  return out;
}

/**
 * The raw bytes of a chunk for `seed`: incompressible ones are stored as they are, compressible
 * ones (`compressible: true`) gzip-compressed.
 */
export function rawChunk(seed: string, options: { length?: number; compressible?: boolean } = {}): Buffer {
  const length = options.length ?? 4096;
  if (options.compressible !== true) return seeded(seed, length);
  const line = Buffer.from(`${seed} `.repeat(8));
  const raw = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += line.length) line.copy(raw, offset);
  return raw;
}

const endsPart = (raw: Buffer): boolean =>
  Number.parseInt(createHash("sha256").update(raw).digest("hex").slice(0, 8), 16) % PART_AVG === 0;

/**
 * An incompressible raw chunk (from the first seed `seed/0`, `seed/1`, … that gives one) after
 * which a part ends: two disks whose chunk lists agree up to it share that part manifest.
 */
export function partEndingChunk(seed: string, length = 4096): Buffer {
  for (let i = 0; ; i++) {
    const raw = seeded(`${seed}/${i}`, length);
    if (endsPart(raw)) return raw;
  }
}

/**
 * A chunked disk whose extents are `raws` in order (a raw chunk given twice is stored once),
 * with its chunk blobs, index blob and manifests.
 */
export async function makeChunkedDisk(
  raws: readonly Buffer[],
  annotations: Readonly<Record<string, string>> = {},
): Promise<ChunkedDisk> {
  const table: ChunkEntry[] = [];
  const chunks: TestBlob[] = [];
  const position = new Map<string, number>();
  const extents: { offset: number; length: number; chunk: number }[] = [];
  let offset = 0;
  for (const raw of raws) {
    const stored = await encodeChunk(raw);
    const digest = `sha256:${stored.digest}` as Digest;
    let at = position.get(digest);
    if (at === undefined) {
      at = table.length;
      position.set(digest, at);
      table.push({
        digest,
        size: stored.bytes.length,
        rawSha256: createHash("sha256").update(raw).digest("hex"),
        rawLength: raw.length,
        encoding: stored.encoding,
      });
      chunks.push({ digest, size: stored.bytes.length, bytes: stored.bytes });
    }
    extents.push({ offset, length: raw.length, chunk: at });
    offset += raw.length;
  }
  const disk = Buffer.concat(raws);
  const index: DiskIndex = {
    size: disk.length,
    digest: digestOf(disk),
    chunking: { ...DEFAULT_CHUNK_SIZES, holeMin: 4096 },
    chunks: table,
    extents,
  };
  const artifact = buildChunkedArtifact(index, annotations);
  const config: TestBlob = { digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length, bytes: EMPTY_CONFIG };
  return {
    digest: artifact.top.digest,
    artifact,
    index,
    raw: disk,
    chunks,
    blobs: [config, artifact.indexBlob, ...chunks],
    manifests: [...artifact.children, artifact.top],
  };
}

/**
 * A second version of `base` whose extents are `raws`, each as long as the base's extent at the
 * same place (so at the same offsets): a raw chunk the base has is stored as the base stores it,
 * any other as a delta against the base's chunk at its place, which joins the chunk table just
 * before it.
 */
export async function makeDeltaDisk(base: ChunkedDisk, raws: readonly Buffer[]): Promise<ChunkedDisk> {
  const table: ChunkEntry[] = [];
  const chunks: TestBlob[] = [];
  const at = new Map<string, number>();
  const place = (entry: ChunkEntry, blob: TestBlob): number => {
    let n = at.get(entry.rawSha256);
    if (n === undefined) {
      n = table.length;
      at.set(entry.rawSha256, n);
      table.push(entry);
      chunks.push(blob);
    }
    return n;
  };
  const baseOf = new Map(base.index.chunks.map((c, i) => [c.rawSha256, i]));
  const extents: { offset: number; length: number; chunk: number }[] = [];
  let offset = 0;
  for (const [i, raw] of raws.entries()) {
    const extent = base.index.extents[i];
    if (extent === undefined || extent.length !== raw.length || extent.chunk < 0)
      throw new Error(`raw chunk ${i} is not as long as the base's chunk at its place`);
    const sha = createHash("sha256").update(raw).digest("hex");
    const same = baseOf.get(sha);
    let chunk: number;
    if (same !== undefined) {
      chunk = place(base.index.chunks[same]!, base.chunks[same]!);
    } else {
      const from = base.index.chunks[extent.chunk]!;
      const fromRaw = base.raw.subarray(extent.offset, extent.offset + extent.length);
      const spans = [{ chunk: place(from, base.chunks[extent.chunk]!), offset: 0, length: raw.length }];
      const bytes = await encodeDelta(raw, fromRaw, sha);
      const digest = digestOf(bytes);
      chunk = place(
        { digest, size: bytes.length, rawSha256: sha, rawLength: raw.length, encoding: "delta", base: spans },
        { digest, size: bytes.length, bytes },
      );
    }
    extents.push({ offset, length: raw.length, chunk });
    offset += raw.length;
  }
  const disk = Buffer.concat(raws);
  return withIndex(
    { ...base, raw: disk, chunks, blobs: [] },
    { ...base.index, size: disk.length, digest: digestOf(disk), chunks: table, extents },
  );
}

/**
 * The disk with `index` as its chunk index (its blobs as they are): for an index a writer got
 * wrong, which a registry stores and a reader must refuse.
 */
export function withIndex(disk: ChunkedDisk, index: DiskIndex): ChunkedDisk {
  const artifact = buildChunkedArtifact(index, {});
  const config: TestBlob = { digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length, bytes: EMPTY_CONFIG };
  return {
    ...disk,
    digest: artifact.top.digest,
    artifact,
    index,
    blobs: [config, artifact.indexBlob, ...disk.chunks],
    manifests: [...artifact.children, artifact.top],
  };
}

/**
 * The same disk with an image index that leaves out part `part` (1 = the first part): its chunks
 * are then in no part manifest, which a registry accepts and a reader must refuse.
 */
export function withoutPart(disk: ChunkedDisk, part: number): ChunkedDisk {
  const document = JSON.parse(disk.artifact.top.bytes.toString("utf8")) as { manifests: unknown[] };
  document.manifests.splice(part, 1);
  const bytes = Buffer.from(JSON.stringify(document));
  const top: BuiltManifest = { digest: digestOf(bytes), mediaType: MediaType.ImageIndex, bytes };
  return {
    ...disk,
    digest: top.digest,
    artifact: { ...disk.artifact, top },
    manifests: [...disk.artifact.children, top],
  };
}

/** The distinct digests a disk's version reaches, with their sizes: manifests and blobs. */
export function diskSizes(disk: ChunkedDisk): Map<Digest, number> {
  const sizes = new Map<Digest, number>();
  for (const m of disk.manifests) sizes.set(m.digest, m.bytes.length);
  for (const b of disk.blobs) sizes.set(b.digest, b.size);
  return sizes;
}

async function send(app: FastifyInstance, request: InjectOptions, want: number, what: string) {
  const res = await app.inject(request);
  if (res.statusCode !== want) throw new Error(`${what}: HTTP ${res.statusCode}: ${res.body}`);
  return res;
}

/**
 * Pushes a disk to `repository` as a client would: every blob (monolithic uploads), the child
 * manifests by digest, then the image index by `tag` or, without one, by digest.
 */
export async function pushChunkedDisk(
  app: FastifyInstance,
  repository: string,
  disk: ChunkedDisk,
  options: { user?: string; tag?: string } = {},
): Promise<void> {
  const auth = options.user === undefined ? {} : { authorization: basic(options.user) };
  for (const blob of disk.blobs)
    await send(
      app,
      {
        method: "POST",
        url: `/v2/${repository}/blobs/uploads/?digest=${blob.digest}`,
        headers: { ...auth, "content-type": "application/octet-stream" },
        payload: blob.bytes,
      },
      201,
      `push of blob ${blob.digest}`,
    );
  for (const manifest of disk.manifests) {
    const reference = manifest === disk.artifact.top ? (options.tag ?? manifest.digest) : manifest.digest;
    await send(
      app,
      {
        method: "PUT",
        url: `/v2/${repository}/manifests/${reference}`,
        headers: { ...auth, "content-type": manifest.mediaType },
        payload: manifest.bytes,
      },
      201,
      `push of manifest ${reference}`,
    );
  }
}

/**
 * Reads a disk whole through the registry: the image index, the index manifest and the index
 * blob, every part and every chunk blob (each checked against its digest and the raw digest the
 * index gives), and the raw disk the extents make, checked against the disk's digest. Returns the
 * digests it read.
 */
export async function readChunkedDisk(
  app: FastifyInstance,
  repository: string,
  reference: string,
  user?: string,
): Promise<{ index: DiskIndex; digests: Set<Digest> }> {
  const auth = user === undefined ? {} : { authorization: basic(user) };
  const digests = new Set<Digest>();
  const fetch = async (kind: "manifests" | "blobs", ref: string): Promise<Buffer> => {
    const res = await send(
      app,
      {
        method: "GET",
        url: `/v2/${repository}/${kind}/${ref}`,
        headers: { ...auth, accept: `${MediaType.ImageIndex}, ${MediaType.ImageManifest}` },
      },
      200,
      `GET ${kind} ${ref}`,
    );
    const bytes = res.rawPayload;
    const digest = digestOf(bytes);
    if (ref.startsWith("sha256:") && digest !== ref) throw new Error(`${ref} came back as ${digest}`);
    digests.add(digest);
    return bytes;
  };
  const top = parseManifest(await fetch("manifests", reference), MediaType.ImageIndex) as ImageIndex;
  const layout = chunkedLayout(top, reference);
  const head = indexBlobOf(await fetch("manifests", layout.indexManifest.digest), reference);
  const index = decodeIndex(await fetch("blobs", head.digest));
  for (const part of layout.parts) {
    const manifest = parseManifest(await fetch("manifests", part.digest), MediaType.ImageManifest);
    if (manifest.kind !== "manifest") throw new Error(`part ${part.digest} is not a manifest`);
    await fetch("blobs", manifest.config.digest);
  }
  const raws = new Map<number, Buffer>();
  // Chunks stored whole first, then the deltas made from them.
  for (const [i, chunk] of index.chunks.entries())
    if (chunk.encoding !== "delta")
      raws.set(
        i,
        await decodeChunk(
          await fetch("blobs", chunk.digest),
          chunk.encoding,
          { length: chunk.rawLength, sha256: chunk.rawSha256 },
          chunk.digest,
        ),
      );
  for (const [i, chunk] of index.chunks.entries())
    if (chunk.encoding === "delta") {
      const from = Buffer.concat(
        (chunk.base ?? []).map((s) =>
          s.chunk < 0
            ? Buffer.alloc(s.length)
            : (raws.get(s.chunk) ?? Buffer.alloc(0)).subarray(s.offset, s.offset + s.length),
        ),
      );
      const raw = { length: chunk.rawLength, sha256: chunk.rawSha256 };
      raws.set(i, await applyDelta(await fetch("blobs", chunk.digest), from, raw, chunk.digest));
    }
  const disk = Buffer.concat(
    index.extents.map((e) => (e.chunk < 0 ? Buffer.alloc(e.length) : (raws.get(e.chunk) ?? Buffer.alloc(0)))),
  );
  if (digestOf(disk) !== index.digest)
    throw new Error(`the disk reads as ${digestOf(disk)}, not ${index.digest}`);
  return { index, digests };
}
