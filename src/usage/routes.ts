// The usage API under /api/v1, as a table in the gallery API's shape: mounted beside the
// gallery's routes (bindRoutes) and documented with them.
import { ok, type ApiRequest, type ApiRoute } from "../gallery/index.ts";
import { siteList, wholeNumber } from "./query.ts";
import {
  CostQueryIn,
  CostReportOut,
  PlanQueryIn,
  ReplicationPlanOut,
  UsageQueryIn,
  UsageReportOut,
} from "./schemas.ts";
import type { UsageService } from "./service.ts";

const p = (req: ApiRequest, name: string): string => req.params[name] ?? "";

export const USAGE_ROUTES: readonly ApiRoute<UsageService>[] = [
  {
    method: "GET",
    path: "/usage",
    operationId: "getUsage",
    response: UsageReportOut,
    summary:
      "Pulls per version (total, per site, per day), last pulled, own and shared bytes, unused and stale versions, and sprawl, for the galleries the caller reads",
    tag: "usage",
    query: UsageQueryIn,
    responses: { 200: "The usage report" },
    handler: async (usage, req) =>
      ok(
        await usage.report(req.actor, {
          ...(req.query.gallery === undefined ? {} : { gallery: req.query.gallery }),
          unusedDays: wholeNumber("unusedDays", req.query.unusedDays, 1, 36_500, 30),
          days: wholeNumber("days", req.query.days, 1, 3650, 30),
          local: req.query.local === "true",
        }),
      ),
  },
  {
    method: "GET",
    path: "/usage/costs",
    operationId: "getUsageCosts",
    response: CostReportOut,
    summary: "Storage per site and gallery with its monthly cost",
    tag: "usage",
    query: CostQueryIn,
    responses: { 200: "The cost report" },
    handler: async (usage, req) =>
      ok(await usage.costs(req.actor, req.query.gallery === undefined ? {} : { gallery: req.query.gallery })),
  },
  {
    method: "GET",
    path: "/galleries/:gallery/images/:image/versions/:version/replication/plan",
    operationId: "planReplication",
    response: ReplicationPlanOut,
    summary:
      "Per site: the bytes replicating the version would move (what the site lacks), the one-time egress cost and the monthly storage cost",
    tag: "usage",
    query: PlanQueryIn,
    responses: { 200: "The plan; unreachable sites carry the reason" },
    handler: async (usage, req) =>
      ok(
        await usage.plan(
          req.actor,
          { gallery: p(req, "gallery"), image: p(req, "image"), version: p(req, "version") },
          siteList(req.query.sites),
        ),
      ),
  },
];
