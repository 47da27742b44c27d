// What changed between two images: packages, files and config — the library the CLI's
// `strata diff` and the gallery's changelog use.
export { DiffError, type DiffErrorCode } from "./errors.ts";
export {
  diffImages,
  DIFF_SCHEMA_VERSION,
  type DiffOptions,
  type DiffSide,
  type ImageDiff,
  type ImageSummary,
  type InventoryOf,
  type PackageSection,
} from "./diff-images.ts";
export {
  resolveImage,
  sourceFromEndpoint,
  type ContentDescriptor,
  type ContentSource,
  type PlatformWanted,
  type ResolvedImage,
} from "./image-source.ts";
export {
  diffPackages,
  type OsChange,
  type PackageChange,
  type PackageDiff,
  type PackageEntry,
} from "./packages.ts";
export {
  diffFiles,
  type FileChange,
  type FileChangeKind,
  type FileDiff,
  type FileInfo,
  type FileTotals,
} from "./files.ts";
export {
  diffConfigs,
  type ConfigDiff,
  type ImageConfigView,
  type MapDiff,
  type SetDiff,
  type ValueChange,
} from "./config.ts";
export { flattenImage, flattenPair, type FlattenedPair } from "./flatten.ts";
export { FileTree, type FileEntry, type FileType, type LayerRecord } from "./file-tree.ts";
export { readLayer, type LayerSource, type ReadLayerOptions } from "./layer-reader.ts";
export { compareApkVersions, compareDebVersions, compareRpmVersions, compareVersions } from "./versions.ts";
export { inventoryFromSbom, CYCLONEDX_PREDICATE, SPDX_PREDICATE, SBOM_PREDICATES } from "./sbom-reader.ts";
export { packageFromPurl, parsePurl, type Purl } from "./purl.ts";
export { findSbom, type FoundSbom } from "./sbom-referrer.ts";
export { formatSize, renderMarkdown, renderText } from "./render.ts";
export {
  DIFF_ARTIFACT_TYPE,
  DIFF_BASE_ANNOTATION,
  DIFF_BASE_NAME_ANNOTATION,
  diffReferrer,
  type DiffReferrer,
} from "./referrer.ts";
