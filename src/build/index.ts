// Public surface of the builder.
export { BuildError } from "./errors.ts";
export * from "./containerfile/index.ts";
export * from "./layer/index.ts";
