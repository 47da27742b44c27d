// Public surface of the usage domain.
export { createUsage, type UsageOptions, type UsageService } from "./service.ts";
export { USAGE_ROUTES } from "./routes.ts";
export type { PulledEvent } from "./pull-counter.ts";
export type { Sites, ThisSite, RemoteSite } from "./sites.ts";
export type { UsageReport } from "./report.ts";
export type { CostReport } from "./costs.ts";
export type { ReplicationPlan, SitePlan } from "./plan.ts";
