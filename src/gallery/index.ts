// Public surface of the gallery domain.
export {
  createGalleryService,
  type GalleryService,
  type GalleryServiceOptions,
  type MoveOutcome,
  type PromoteOutcome,
} from "./service.ts";
export { registerGalleryApi, sendApiError, API_PREFIX, type Identify } from "./api/register.ts";
export { API_ROUTES } from "./api/routes.ts";
export {
  bindRoutes,
  ok,
  type ApiRequest,
  type ApiResult,
  type ApiRoute,
  type ApiRouteShape,
} from "./api/route.ts";
export type { GalleryAccess } from "./access.ts";
export type { GalleryChange } from "./change-feed.ts";
export type { GalleryDatabase, PullsTable, ReplicasTable, VersionsTable } from "./db/schema.ts";
export { buildOpenApi } from "./api/openapi.ts";
export { EVENTS_OPENAPI, EVENTS_PATH, HEARTBEAT_MS } from "./api/events.ts";
export type { PullPath } from "./pull-path.ts";
export {
  DECISION_TTL_MS,
  foreignFacts,
  type CheckAnswer,
  type PolicyEnforcer,
  type PolicySetup,
} from "./policy-enforcer.ts";
export { DECISIONS_KEPT, DECISIONS_MAX_AGE_DAYS, type DecisionEntry } from "./policy-log.ts";
export type { WebhookTarget, Actor, GallerySigning, ReplicationSite } from "./context.ts";
export { storeEndpoint, type StoreParts } from "./store-endpoint.ts";
export {
  GalleryError,
  GALLERY_ERROR_STATUS,
  GALLERY_ERROR_DESCRIPTIONS,
  type GalleryErrorCode,
} from "./errors.ts";
export { signBody, SIGNATURE_HEADER, EVENT_HEADER, DELIVERY_HEADER } from "./webhooks.ts";
export * from "./model.ts";
