// Public surface of the builder.
export { BuildError } from "./errors.ts";
export * from "./containerfile/index.ts";
export * from "./layer/index.ts";
export * from "./image.ts";
export { readImageFromLayout, writeImageToLayout, REF_NAME } from "./oci-layout.ts";
export * from "./engine/index.ts";
export {
  runGates,
  type CommandGate,
  type FileGate,
  type Gate,
  type GateResult,
  type MetadataGate,
} from "./gates.ts";
