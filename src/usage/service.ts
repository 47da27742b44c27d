// The usage service: the pull counter the server feeds from registry events, and the reports,
// costs and replication plans the API and the CLI ask for.
import type { Logger } from "pino";
import type { Actor, GalleryAccess } from "../gallery/index.ts";
import { costReport, type CostReport } from "./costs.ts";
import { replicationPlan, type PlanOptions, type ReplicationPlan } from "./plan.ts";
import { createPullCounter, type PullCounter, type PulledEvent } from "./pull-counter.ts";
import { remoteUsage, REMOTE_TIMEOUT_MS } from "./remote-usage.ts";
import { usageReport, type UsageQuery, type UsageReport } from "./report.ts";
import type { Sites } from "./sites.ts";

export interface UsageOptions {
  /** Count pulls (config usage.enabled). */
  readonly enabled: boolean;
  /** ms between writes of counted pulls (config usage.flush). */
  readonly flushMs: number;
  readonly sites: Sites;
  /** ms another Strata site gets to answer for its pulls. */
  readonly remoteTimeoutMs?: number;
  readonly plan?: PlanOptions;
}

export interface UsageService {
  /** Counts a manifest GET (does nothing when counting is off). */
  record(event: PulledEvent): void;
  /** Writes the pulls counted so far. */
  flush(): Promise<void>;
  /** The counter's writes so far; undefined when counting is off. */
  stats(): ReturnType<PullCounter["stats"]> | undefined;
  report(actor: Actor, query: UsageQuery & { readonly local?: boolean }): Promise<UsageReport>;
  costs(actor: Actor, query: { readonly gallery?: string }): Promise<CostReport>;
  plan(
    actor: Actor,
    key: { readonly gallery: string; readonly image: string; readonly version: string },
    sites: readonly string[] | undefined,
  ): Promise<ReplicationPlan>;
  /** Stops counting and writes what is left. */
  close(): Promise<void>;
}

export function createUsage(access: GalleryAccess, log: Logger, options: UsageOptions): UsageService {
  const counter = options.enabled
    ? createPullCounter(access, log, { site: options.sites.self.name, flushMs: options.flushMs })
    : undefined;
  const hasStrataSites = Object.values(options.sites.remote).some((s) => s.kind === "strata");
  return {
    record: (event) => counter?.record(event),
    flush: async () => counter?.flush(),
    stats: () => counter?.stats(),
    report: (actor, query) =>
      usageReport(access, actor, query, {
        site: options.sites.self.name,
        ...(query.local === true || !hasStrataSites
          ? {}
          : { remote: remoteUsage(options.sites, query.days, options.remoteTimeoutMs ?? REMOTE_TIMEOUT_MS) }),
      }),
    costs: (actor, query) => costReport(access, actor, query, options.sites),
    plan: (actor, key, sites) => replicationPlan(access, actor, key, sites, options.sites, options.plan),
    close: async () => counter?.close(),
  };
}
