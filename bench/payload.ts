// Benchmark content, generated once: a pool of random bytes from which unique blobs are cut by
// stamping a fresh nonce over their first bytes, a repeating block for multi-GiB streams, and a
// minimal valid OCI image (config, one empty gzipped tar layer, manifests).
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { gzipSync } from "node:zlib";
import { OCI_MANIFEST } from "./registry-api.ts";

export const MiB = 1024 * 1024;

export interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const RUN_ID = randomBytes(8);
let counter = 0;

/** Writes a never-repeated 16-byte nonce at the start of `bytes` (in place). */
function stamp(bytes: Buffer): void {
  RUN_ID.copy(bytes, 0, 0, Math.min(8, bytes.length));
  if (bytes.length >= 16) bytes.writeBigUInt64BE(BigInt(++counter), 8);
}

export interface Pool {
  readonly size: number;
  /**
   * A blob of `size` bytes at `offset` in the pool with content no earlier call produced. It is a
   * view, not a copy: valid until the next call whose range overlaps it.
   */
  unique(size: number, offset?: number): Blob;
}

export function createPool(size: number): Pool {
  const bytes = Buffer.allocUnsafe(size);
  randomFillSync(bytes);
  return {
    size,
    unique(length, offset = 0) {
      if (offset + length > size) throw new Error(`Pool of ${size} bytes has no range ${offset}+${length}`);
      const view = bytes.subarray(offset, offset + length);
      stamp(view);
      return { digest: sha256(view), bytes: view };
    },
  };
}

export interface StreamedBlob {
  readonly digest: string;
  readonly size: number;
  /** The content again, as `count` writes of one block; never held in memory as a whole. */
  chunks(): Iterable<Buffer>;
}

/** A blob of `count` repetitions of one random block; the digest is computed here, in one pass. */
export function repeatingBlob(blockSize: number, count: number): StreamedBlob {
  const block = randomBytes(blockSize);
  stamp(block);
  const hash = createHash("sha256");
  for (let i = 0; i < count; i++) hash.update(block);
  return {
    digest: `sha256:${hash.digest("hex")}`,
    size: blockSize * count,
    *chunks() {
      for (let i = 0; i < count; i++) yield block;
    },
  };
}

export interface SmallImage {
  readonly config: Blob;
  readonly layer: Blob;
  /** A manifest over config and layer; `note` goes into an annotation to make its bytes unique. */
  manifest(note: string): Buffer;
}

/** A valid single-layer image: an empty tar (two zero blocks), gzipped, and its config. */
export function smallImage(): SmallImage {
  const tar = Buffer.alloc(1024);
  const layerBytes = gzipSync(tar);
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    }),
  );
  const config = { digest: sha256(configBytes), bytes: configBytes };
  const layer = { digest: sha256(layerBytes), bytes: layerBytes };
  return {
    config,
    layer,
    manifest(note) {
      return Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: config.digest,
            size: config.bytes.length,
          },
          layers: [
            {
              mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
              digest: layer.digest,
              size: layer.bytes.length,
            },
          ],
          annotations: { "org.example.bench": note },
        }),
      );
    },
  };
}
