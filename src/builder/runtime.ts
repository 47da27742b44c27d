// The builder's light public surface, for the runner and the CLI's hot path: reading images,
// resolving users and paths inside a root, and runc configuration — without the Containerfile
// parser, the template's YAML or the tar writer, which `strata run` on a cached image never needs.
// Heavier pieces (layer extraction, snapshots, layer writing) come from index.ts, loaded lazily.
export { BuildError } from "./errors.ts";
export { resolveInRoot } from "./engine/paths.ts";
export { resolveUser, runtimeConfig, type RootReader } from "./engine/run.ts";
export { appendLayer, type Image, type LayerBlob } from "./image.ts";
export type { EntryState } from "./layer/snapshot.ts";
export { readImageFromLayout, tagInLayout } from "./oci-layout.ts";
export { TarFraming } from "./layer/tar-framing.ts";
