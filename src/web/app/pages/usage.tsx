// Usage and costs of the galleries the caller reads, from /api/v1/usage and /api/v1/usage/costs:
// pulls per day per gallery and storage per site as charts (uPlot, loaded with this page only),
// each with a table of the same numbers; the most pulled versions; unused and stale versions;
// sprawl (definitions sharing most of their content, versions nearly identical to the previous).
import { useMemo } from "react";
import { api, seg, versionPath } from "../api.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import { bytes, date, day, Loading, Updated, usePoll, useTitle } from "../ui.tsx";
import { Chart, type ChartSeries } from "./chart.tsx";
import type { VersionUsage } from "./version-supply.tsx";

interface UsageReport {
  site: string;
  at: string;
  days: number;
  unusedDays: number;
  galleries: string[];
  sites: { name: string; status: "ok" | "unavailable"; reason?: string }[];
  versions: (VersionUsage & { bytes: { total: number; own: number; shared: number } })[];
  unused: {
    gallery: string;
    image: string;
    version: string;
    lastPulledAt: string | null;
    idleDays: number;
  }[];
  stale: {
    gallery: string;
    image: string;
    version: string;
    builtAt: string;
    ageDays: number;
    rebuildDays: number;
  }[];
  sprawl: {
    sharedDefinitions: {
      a: string;
      b: string;
      sharedBytes: number;
      aBytes: number;
      bBytes: number;
      ratio: number;
    }[];
    nearIdentical: {
      gallery: string;
      image: string;
      version: string;
      previous: string;
      sameBytes: number;
      ratio: number;
    }[];
  };
}

interface CostReport {
  at: string;
  galleries: string[];
  sites: {
    site: string;
    kind: "this" | "strata" | "registry";
    region?: string;
    storagePerGiBMonth: number;
    bytes: number;
    monthly: number;
    galleries: { gallery: string; versions: number; bytes: number; monthly: number }[];
  }[];
  monthly: number;
}

const TOP = 20;
const money = (n: number): string => n.toFixed(2);
const percent = (ratio: number): string => `${Math.round(ratio * 100)} %`;

export default function UsagePage() {
  useTitle("Usage and costs");
  const { query } = useLocation();
  const gallery = query.get("gallery") ?? "";
  const filter = gallery === "" ? "" : `?gallery=${seg(gallery)}`;
  const polled = usePoll(async () => {
    const [usage, costs] = await Promise.all([
      api<UsageReport>("GET", `/usage${filter}`),
      api<CostReport>("GET", `/usage/costs${filter}`),
    ]);
    return { usage, costs };
  }, `usage:${gallery}`);
  const galleries = usePoll(
    () => api<{ name: string }[]>("GET", "/galleries").then((list) => list.map((g) => g.name)),
    "usage:galleries",
  );
  return (
    <>
      <h1>Usage and costs</h1>
      <div className="filters">
        <label>
          Gallery
          <select
            value={gallery}
            onChange={(e) =>
              navigate(
                e.target.value === "" ? "/usage" : `/usage?gallery=${encodeURIComponent(e.target.value)}`,
              )
            }
          >
            <option value="">Every gallery you read</option>
            {(galleries.data ?? (gallery === "" ? [] : [gallery])).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>{({ usage, costs }) => <Report usage={usage} costs={costs} />}</Loading>
    </>
  );
}

function Report({ usage, costs }: { usage: UsageReport; costs: CostReport }) {
  const pulls = useMemo(() => pullsByGallery(usage), [usage]);
  const storage = useMemo(() => storageBySite(costs), [costs]);
  const top = useMemo(
    () =>
      [...usage.versions]
        .filter((v) => v.pulls.total > 0)
        .sort((a, b) => b.pulls.total - a.pulls.total)
        .slice(0, TOP),
    [usage],
  );
  const unavailable = usage.sites.filter((s) => s.status === "unavailable");
  return (
    <>
      {unavailable.length > 0 && (
        <p className="note">
          Pulls of {unavailable.map((s) => `${s.name} (${s.reason ?? "unavailable"})`).join(", ")} are not
          included: the site did not answer.
        </p>
      )}
      <section aria-labelledby="pulls-title">
        <h2 id="pulls-title">Pulls per day, last {usage.days} days</h2>
        {pulls.series.length === 0 ? (
          <p className="muted">No gallery to report on.</p>
        ) : (
          <figure>
            <Chart x={pulls.x} series={pulls.series} />
            <figcaption className="muted">
              Pulls per day of each gallery (counted at {usage.site}
              {usage.sites.length > 0 ? " and the other Strata sites" : ""}); the table below has the totals.
            </figcaption>
          </figure>
        )}
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Gallery</th>
                <th scope="col">Pulls, last {usage.days} days</th>
                <th scope="col">Versions</th>
              </tr>
            </thead>
            <tbody>
              {pulls.series.map((s) => (
                <tr key={s.label}>
                  <td>{s.label}</td>
                  <td>{s.values.reduce<number>((sum, n) => sum + (n ?? 0), 0)}</td>
                  <td>{usage.versions.filter((v) => v.gallery === s.label).length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="storage-title">
        <h2 id="storage-title">Storage and monthly cost</h2>
        {storage.sites.labels.length > 0 && (
          <div className="charts">
            <figure>
              <Chart {...storage.sites} bars yFormat={bytes} />
              <figcaption className="muted">Bytes stored at each site.</figcaption>
            </figure>
            <figure>
              <Chart {...storage.galleries} bars yFormat={money} />
              <figcaption className="muted">Monthly cost of each gallery, at every site.</figcaption>
            </figure>
          </div>
        )}
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Gallery</th>
                <th scope="col">Versions</th>
                <th scope="col">Stored</th>
                <th scope="col">Per month</th>
              </tr>
            </thead>
            <tbody>
              {costs.sites.flatMap((s) =>
                s.galleries.map((g) => (
                  <tr key={`${s.site}/${g.gallery}`}>
                    <td>
                      {s.site}
                      {s.kind === "this" ? " (this site)" : s.region !== undefined ? ` (${s.region})` : ""}
                    </td>
                    <td>{g.gallery}</td>
                    <td>{g.versions}</td>
                    <td>{bytes(g.bytes)}</td>
                    <td>{money(g.monthly)}</td>
                  </tr>
                )),
              )}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={4}>
                  Every site, per month (in the unit of the configured prices)
                </th>
                <td>{money(costs.monthly)}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      </section>
      <section aria-labelledby="top-title">
        <h2 id="top-title">Most pulled versions</h2>
        {top.length === 0 ? (
          <p className="muted">No version has been pulled.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Pulls</th>
                  <th scope="col">Last {usage.days} days</th>
                  <th scope="col">Last pulled</th>
                  <th scope="col">Own bytes</th>
                </tr>
              </thead>
              <tbody>
                {top.map((v) => (
                  <tr key={`${v.gallery}/${v.image}:${v.version}`}>
                    <td>
                      <VersionLink {...v} />
                    </td>
                    <td>{v.pulls.total}</td>
                    <td>{v.pulls.recent}</td>
                    <td>{v.pulls.lastPulledAt === null ? "never" : date(v.pulls.lastPulledAt)}</td>
                    <td>{bytes(v.bytes.own)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="unused-title">
        <h2 id="unused-title">
          Unused versions ({usage.unused.length}, not pulled for {usage.unusedDays} days)
        </h2>
        {usage.unused.length === 0 ? (
          <p className="muted">Every version was pulled within {usage.unusedDays} days.</p>
        ) : (
          <details>
            <summary>Show the {usage.unused.length} unused versions</summary>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Last pulled</th>
                    <th scope="col">Idle days</th>
                  </tr>
                </thead>
                <tbody>
                  {usage.unused.slice(0, 200).map((v) => (
                    <tr key={`${v.gallery}/${v.image}:${v.version}`}>
                      <td>
                        <VersionLink {...v} />
                      </td>
                      <td>{v.lastPulledAt === null ? "never" : date(v.lastPulledAt)}</td>
                      <td>{v.idleDays}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {usage.unused.length > 200 && <p className="muted">… and {usage.unused.length - 200} more</p>}
          </details>
        )}
      </section>
      <section aria-labelledby="stale-title">
        <h2 id="stale-title">Stale versions ({usage.stale.length})</h2>
        {usage.stale.length === 0 ? (
          <p className="muted">No version is older than its definition's rebuild interval.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Built</th>
                  <th scope="col">Age (days)</th>
                  <th scope="col">Rebuild every (days)</th>
                </tr>
              </thead>
              <tbody>
                {usage.stale.map((v) => (
                  <tr key={`${v.gallery}/${v.image}:${v.version}`}>
                    <td>
                      <VersionLink {...v} />
                    </td>
                    <td>{day(v.builtAt)}</td>
                    <td>{v.ageDays}</td>
                    <td>{v.rebuildDays}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="sprawl-title">
        <h2 id="sprawl-title">Sprawl</h2>
        {usage.sprawl.sharedDefinitions.length === 0 && usage.sprawl.nearIdentical.length === 0 && (
          <p className="muted">
            No definitions share most of their content, and no version repeats the previous.
          </p>
        )}
        {usage.sprawl.sharedDefinitions.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption>Definitions that share most of their content</caption>
              <thead>
                <tr>
                  <th scope="col">Definition</th>
                  <th scope="col">And</th>
                  <th scope="col">Shared</th>
                  <th scope="col">Same</th>
                </tr>
              </thead>
              <tbody>
                {usage.sprawl.sharedDefinitions.map((s) => (
                  <tr key={`${s.a}|${s.b}`}>
                    <td>{s.a}</td>
                    <td>{s.b}</td>
                    <td>{bytes(s.sharedBytes)}</td>
                    <td>{percent(s.ratio)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {usage.sprawl.nearIdentical.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption>Versions nearly identical to the previous one</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Previous</th>
                  <th scope="col">Same bytes</th>
                  <th scope="col">Same</th>
                </tr>
              </thead>
              <tbody>
                {usage.sprawl.nearIdentical.slice(0, 200).map((s) => (
                  <tr key={`${s.gallery}/${s.image}:${s.version}`}>
                    <td>
                      <VersionLink {...s} />
                    </td>
                    <td>{s.previous}</td>
                    <td>{bytes(s.sameBytes)}</td>
                    <td>{percent(s.ratio)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function VersionLink(v: { gallery: string; image: string; version: string }) {
  return (
    <Link to={versionPath(v.gallery, v.image, v.version)}>
      {v.gallery}/{v.image}:{v.version}
    </Link>
  );
}

/** Per gallery, the pulls of each of the report's days (the days with none count 0). */
function pullsByGallery(usage: UsageReport): { x: number[]; series: ChartSeries[] } {
  const end = Date.parse(`${usage.at.slice(0, 10)}T00:00:00Z`);
  const days: string[] = [];
  for (let i = usage.days - 1; i >= 0; i--)
    days.push(new Date(end - i * 86_400_000).toISOString().slice(0, 10));
  const index = new Map(days.map((d, i) => [d, i]));
  const per = new Map<string, number[]>(usage.galleries.map((g) => [g, days.map(() => 0)]));
  for (const v of usage.versions) {
    const counts = per.get(v.gallery);
    if (counts === undefined) continue;
    for (const { day: d, count } of v.pulls.byDay) {
      const i = index.get(d);
      if (i !== undefined) counts[i] = (counts[i] ?? 0) + count;
    }
  }
  return {
    x: days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000),
    series: [...per].map(([label, values]) => ({ label, values })),
  };
}

interface Bars {
  x: number[];
  labels: string[];
  series: ChartSeries[];
}

/** The bytes stored at each site, and the monthly cost of each gallery over every site. */
function storageBySite(costs: CostReport): { sites: Bars; galleries: Bars } {
  const sites = costs.sites.map((s) => s.site);
  const galleries = [...new Set(costs.sites.flatMap((s) => s.galleries.map((g) => g.gallery)))];
  return {
    sites: {
      x: sites.map((_, i) => i),
      labels: sites,
      series: [{ label: "Stored", values: costs.sites.map((s) => s.bytes) }],
    },
    galleries: {
      x: galleries.map((_, i) => i),
      labels: galleries,
      series: [
        {
          label: "Per month",
          values: galleries.map((gallery) =>
            costs.sites.reduce(
              (sum, s) => sum + (s.galleries.find((g) => g.gallery === gallery)?.monthly ?? 0),
              0,
            ),
          ),
        },
      ],
    },
  };
}
