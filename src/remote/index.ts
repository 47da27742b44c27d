// The OCI client: a registry's API with its authentication, and images and artifacts moved
// between a registry and local files.
export {
  RegistryClient,
  isLoopbackRegistry,
  type BytesProgress,
  type ClientOptions,
  type RegistryCredentials,
} from "./client.ts";
export { RemoteError } from "./errors.ts";
export {
  pushManifest,
  pushReferrer,
  referenceTarget,
  type PushBlob,
  type PushEvent,
  type ReferrerPush,
} from "./image.ts";
export { copyImage, type CopiedReferrer, type CopyOptions, type CopyResult } from "./copy.ts";
export type { Endpoint, ReferrerIndexing } from "./endpoint.ts";
export {
  blobPath,
  layoutTags,
  readIndex,
  REF_NAME,
  setTag,
  writeIndex,
  SUBJECT_ANNOTATION,
  type Entry,
  type IndexJson,
} from "./layout.ts";
export { createLayoutEndpoint, entryOf } from "./layout-endpoint.ts";
export { layoutBlobs, pruneLayout, reachable, type LayoutBlob, type PruneReport } from "./layout-gc.ts";
export { fallbackTag, listReferrers } from "./referrers.ts";
export { createRegistryEndpoint } from "./registry-endpoint.ts";
export { describe, type Description } from "./describe.ts";
