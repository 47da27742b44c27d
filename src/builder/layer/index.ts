// Layers from root filesystem changes: snapshots, their differences, and reproducible gzip tars.
export { snapshotTree, type EntryState, type EntryType, type Snapshot } from "./snapshot.ts";
export { diffSnapshots, type Changes } from "./diff.ts";
export { writeLayer, WHITEOUT_PREFIX, type LayerOptions, type WrittenLayer } from "./write-layer.ts";
export { extractLayer, cleanEntryPath, type ExtractOptions, type ExtractResult } from "./extract.ts";
export { TarFraming, TarFramingError } from "./tar-framing.ts";
