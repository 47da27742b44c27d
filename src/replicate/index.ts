// Replication: versions copied to the sites that are their targets, moving only what a site
// lacks, with their referrers, and at Strata sites their lifecycle.
export {
  startReconciler,
  type Reconciler,
  type ReconcilerDeps,
  type ReconcilerOptions,
} from "./reconciler.ts";
export { ReplicateError } from "./errors.ts";
export { openSite, siteRepository, type Site, type SiteSpec } from "./site.ts";
export {
  lifecycleStep,
  retryDelay,
  sourceLifecycle,
  type LifecycleStep,
  type SourceLifecycle,
} from "./state.ts";
export { transferVersion, type TransferOptions, type TransferResult } from "./transfer.ts";
