// VM disks: a bootable disk from an image root, its formats, import checks and its artifact
// (one qcow2 layer, or chunked).
export { DiskError, type DiskErrorCode } from "./errors.ts";
export {
  buildDisk,
  sha256File,
  type DiskBuildOptions,
  type DiskBuildResult,
  type DiskFile,
} from "./build.ts";
export {
  checkConverted,
  convertDisk,
  DISK_FORMATS,
  parseFormats,
  qemuFormat,
  qemuImgInfo,
  type DiskFormat,
  type ImageFormat,
} from "./formats.ts";
export { grubConfig, kernelCommandLine, type BootMode } from "./generalize.ts";
export { findBootFiles, type BootFiles, type DiskSource } from "./root.ts";
export { DEFAULT_DISK_LIMITS, inspectDiskFile, type DiskFileInfo, type DiskLimits } from "./import.ts";
export { makeLiveIso, type LiveIsoInput } from "./iso.ts";
// The disk artifact (artifact.ts).
export {
  createDiskArtifact,
  describeDisk,
  DiskAnnotation,
  DISK_ARTIFACT_TYPE,
  DISK_LAYER_MEDIA_TYPE,
  fetchDisk,
  pullDisk,
  pushDisk,
  type ChunkedDiskDescription,
  type DiskArtifact,
  type DiskArtifactInput,
  type DiskDescription,
  type PullDiskOptions,
} from "./artifact.ts";
// Chunked disks (chunked/).
export {
  chunkCacheSize,
  chunkedFacts,
  DEFAULT_INDEX_LIMITS,
  fetchChunkedIndex,
  openChunkCache,
  pullChunkedDisk,
  pushChunkedDisk,
  type ChunkCacheSize,
  type ChunkedDiskRef,
  type ChunkedDiskInput,
  type ChunkedFacts,
  type ChunkedLayout,
  type IndexLimits,
  type PullChunkedOptions,
  type PushChunkedOptions,
  type PushChunkedResult,
  type PushStats,
  type TransferProgress,
  type TransferStats,
} from "./chunked/index.ts";
