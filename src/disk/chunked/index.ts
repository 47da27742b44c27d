// Chunked disks (docs/disk-format.md): a raw disk cut into content-defined chunks, stored as an
// OCI image index over a chunk index and part manifests, pushed and pulled chunk by chunk.
export {
  chunkCacheSize,
  openChunkCache,
  type ChunkCache,
  type ChunkCacheSize,
  type StoredForm,
} from "./cache.ts";
export { chunkFile, DEFAULT_HOLE_MIN, HOLE_BLOCK, type ChunkerOptions, type Extent } from "./chunker.ts";
export { decodeChunk, encodeChunk, type ChunkEncoding, type StoredChunk } from "./compress.ts";
export { DEFAULT_CHUNK_SIZES, type ChunkSizes } from "./fastcdc.ts";
export {
  buildChunkedArtifact,
  chunkedLayout,
  decodeIndex,
  DEFAULT_INDEX_LIMITS,
  encodeIndex,
  type ChunkedArtifact,
  type ChunkedLayout,
  type ChunkEntry,
  type DiskIndex,
  type IndexExtent,
  type IndexLimits,
} from "./format.ts";
export {
  pushChunkedDisk,
  type ChunkedDiskInput,
  type PushChunkedOptions,
  type PushChunkedResult,
  type PushStats,
} from "./push.ts";
export {
  chunkedFacts,
  fetchChunkedIndex,
  pullChunkedDisk,
  type ChunkedDiskRef,
  type ChunkedFacts,
  type FetchedChunkedIndex,
  type PullChunkedOptions,
} from "./pull.ts";
export type { OnProgress, TransferProgress, TransferStats } from "./stats.ts";
export type { WholeDigestMode } from "./whole-digest.ts";
