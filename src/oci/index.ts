// Public surface of the OCI vocabulary (pure: no I/O except the verifying stream).
export * from "./errors.ts";
export * from "./digest.ts";
export * from "./media-types.ts";
export * from "./descriptor.ts";
export * from "./manifest.ts";
export * from "./config.ts";
export * from "./names.ts";
export * from "./glob.ts";
export * from "./reference.ts";
export * from "./verify-stream.ts";
