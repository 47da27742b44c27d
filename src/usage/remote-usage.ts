// Pulls counted at other Strata sites: their own usage report (`GET /api/v1/usage?local=true`,
// only what they counted themselves), fetched in parallel under a bounded time and merged under
// each site's name. A site that does not answer in time, or answers with an error, is listed as
// unavailable with the reason; it never fails the report.
import type { Sites } from "./sites.ts";
import { utcDay } from "./days.ts";

/** Pulls of one version at one site on one day (day 0: before the report's days). */
export interface SitePulls {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly site: string;
  readonly day: number;
  readonly count: number;
  readonly last_at: number;
}

export interface SiteStatus {
  readonly name: string;
  readonly status: "ok" | "unavailable";
  readonly reason?: string;
}

interface RemoteReport {
  readonly versions?: readonly {
    readonly gallery: string;
    readonly image: string;
    readonly version: string;
    readonly pulls: {
      readonly total: number;
      readonly byDay: readonly { readonly day: string; readonly count: number }[];
      readonly lastPulledAt: string | null;
    };
  }[];
}

export const REMOTE_TIMEOUT_MS = 5000;

export function remoteUsage(sites: Sites, days: number, timeoutMs = REMOTE_TIMEOUT_MS) {
  return async (galleries: readonly string[]): Promise<{ sites: SiteStatus[]; pulls: SitePulls[] }> => {
    const wanted = new Set(galleries);
    const strata = Object.entries(sites.remote).filter(([, site]) => site.kind === "strata");
    const answers = await Promise.all(
      strata.map(async ([name, site]) => {
        try {
          const url = `${site.url.replace(/\/+$/, "")}/api/v1/usage?local=true&days=${days}`;
          const auth =
            site.username === undefined
              ? {}
              : {
                  authorization: `Basic ${Buffer.from(`${site.username}:${site.password ?? ""}`).toString("base64")}`,
                };
          const response = await fetch(url, {
            headers: { accept: "application/json", ...auth },
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (!response.ok) {
            await response.body?.cancel();
            return {
              status: { name, status: "unavailable", reason: `HTTP ${response.status}` } as SiteStatus,
            };
          }
          const report = (await response.json()) as RemoteReport;
          return { status: { name, status: "ok" } as SiteStatus, pulls: toRows(name, report, wanted) };
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause?.code;
          const reason =
            (error as Error).name === "TimeoutError"
              ? `no answer within ${timeoutMs} ms`
              : (cause ?? (error as Error).message);
          return { status: { name, status: "unavailable", reason } as SiteStatus };
        }
      }),
    );
    return { sites: answers.map((a) => a.status), pulls: answers.flatMap((a) => a.pulls ?? []) };
  };
}

function toRows(site: string, report: RemoteReport, galleries: ReadonlySet<string>): SitePulls[] {
  const rows: SitePulls[] = [];
  for (const v of report.versions ?? []) {
    if (!galleries.has(v.gallery) || v.pulls.total <= 0) continue;
    const last = v.pulls.lastPulledAt === null ? 0 : Date.parse(v.pulls.lastPulledAt);
    const key = { gallery: v.gallery, image: v.image, version: v.version, site, last_at: last };
    let inDays = 0;
    for (const d of v.pulls.byDay) {
      const day = utcDay(Date.parse(d.day));
      if (!Number.isFinite(day) || d.count <= 0) continue;
      rows.push({ ...key, day, count: d.count });
      inDays += d.count;
    }
    // Pulls before the report's days: one row dated before any day it shows.
    if (v.pulls.total > inDays) rows.push({ ...key, day: 0, count: v.pulls.total - inDays });
  }
  return rows;
}
