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
  poolPath,
  pullImage,
  pushManifest,
  pushReferrer,
  referenceTarget,
  type LocalBlob,
  type PulledImage,
  type PushBlob,
  type PushEvent,
  type ReferrerPush,
} from "./image.ts";
