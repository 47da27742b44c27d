// Public surface of the builder.
export { BuildError } from "./errors.ts";
export * from "./containerfile/index.ts";
export * from "./layer/index.ts";
export * from "./image.ts";
export { layoutTags, readImageFromLayout, tagInLayout, writeImageToLayout, REF_NAME } from "./oci-layout.ts";
export * from "./engine/index.ts";
export {
  runGates,
  type CommandGate,
  type FileGate,
  type Gate,
  type GateResult,
  type MetadataGate,
} from "./gates.ts";
export {
  attachToLayout,
  provenanceReferrer,
  provenanceStatement,
  type ArtifactBlob,
  type Referrer,
  IN_TOTO_ARTIFACT,
  SLSA_PROVENANCE,
  type ProvenanceInput,
} from "./provenance.ts";
export type { BuildInput } from "./engine/engine.ts";
export {
  parseTemplate,
  type DiskSection,
  type GalleryMetadata,
  type GuestGate,
  type Template,
} from "./template.ts";
export { CACHE_ARTIFACT, exportCache, importCache, pushBuiltImage, type PushProgress } from "./registry.ts";
