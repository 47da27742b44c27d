// Public surface of the registry domain.
export { registerRegistry, type MountedRegistry, type RegisterOptions } from "./register.ts";
export { createRegistryMetrics, type RegistryMetrics } from "./metrics.ts";
export { createRegistryEvents, type RegistryEvents, type RegistryEventMap } from "./events.ts";
export { ERROR_CATALOGUE, type ErrorCode } from "./error-catalogue.ts";
export { RegistryError } from "./errors.ts";
export { warningHeader, type PullDecision, type PulledManifest, type RegistryHooks } from "./hooks.ts";
export { toErrorResponse } from "./error-response.ts";
export { allowedMethods, ROUTES } from "./routes.ts";
export type { RegistryDeps, RegistryOptions } from "./context.ts";
export * from "./auth/index.ts";
