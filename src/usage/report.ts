// The usage report of the galleries a caller may read: per version its pulls (total, per site,
// per day over the last `days`), when it was last pulled, its bytes (own and shared), the
// versions unused for `unusedDays`, the stale ones (built longer ago than their definition's
// rebuildDays) and sprawl. Pulls counted at other Strata sites are merged in when asked for.
import type {
  Actor,
  DefinitionMetadata,
  GalleryAccess,
  VersionBytes,
  VersionsTable,
} from "../gallery/index.ts";
import type { Digest } from "../oci/index.ts";
import { builtAt, type BuiltAt } from "./built-at.ts";
import { DAY_MS, dayText, daysBetween, utcDay } from "./days.ts";
import type { SitePulls, SiteStatus } from "./remote-usage.ts";
import { nearIdentical, sharedDefinitions, type NearIdentical, type SharedDefinitions } from "./sprawl.ts";

export interface UsageQuery {
  readonly gallery?: string;
  /** A version not pulled for this many days (since publication when never pulled) is unused. */
  readonly unusedDays: number;
  /** Days of per-day pull counts. */
  readonly days: number;
}

export interface VersionPulls {
  readonly total: number;
  /** Pulls within the last `days`. */
  readonly recent: number;
  readonly bySite: Readonly<Record<string, number>>;
  readonly byDay: readonly { readonly day: string; readonly count: number }[];
  readonly lastPulledAt: string | null;
}

export interface VersionUsage {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly digest: string;
  readonly state: string;
  readonly publishedAt: string;
  readonly builtAt: string;
  readonly builtFrom: BuiltAt["from"];
  readonly pulls: VersionPulls;
  readonly bytes: VersionBytes;
}

export interface UsageReport {
  readonly site: string;
  readonly at: string;
  readonly days: number;
  readonly unusedDays: number;
  readonly galleries: readonly string[];
  readonly sites: readonly SiteStatus[];
  readonly versions: readonly VersionUsage[];
  readonly unused: readonly {
    readonly gallery: string;
    readonly image: string;
    readonly version: string;
    readonly lastPulledAt: string | null;
    readonly idleDays: number;
  }[];
  readonly stale: readonly {
    readonly gallery: string;
    readonly image: string;
    readonly version: string;
    readonly builtAt: string;
    readonly builtFrom: BuiltAt["from"];
    readonly ageDays: number;
    readonly rebuildDays: number;
  }[];
  readonly sprawl: {
    readonly sharedDefinitions: readonly SharedDefinitions[];
    readonly nearIdentical: readonly NearIdentical[];
  };
}

/** Pulls of other sites by gallery, fetched for the report (none unless configured). */
export type RemotePulls = (galleries: readonly string[]) => Promise<{
  readonly sites: readonly SiteStatus[];
  readonly pulls: readonly SitePulls[];
}>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** The galleries of the report: the one asked for (readers only) or every one the caller reads. */
export async function reportGalleries(
  access: GalleryAccess,
  actor: Actor,
  gallery: string | undefined,
): Promise<string[]> {
  if (gallery === undefined) return access.readableGalleries(actor);
  await access.requireRole(actor, gallery, "reader");
  return [gallery];
}

/** Every version row of the galleries, each definition's versions oldest first. */
export async function galleryVersions(
  access: GalleryAccess,
  galleries: readonly string[],
): Promise<VersionsTable[]> {
  if (galleries.length === 0) return [];
  return access.db
    .selectFrom("gallery_versions")
    .selectAll()
    .where("gallery", "in", galleries)
    .orderBy("gallery")
    .orderBy("image")
    .orderBy("major")
    .orderBy("minor")
    .orderBy("patch")
    .execute();
}

export async function usageReport(
  access: GalleryAccess,
  actor: Actor,
  query: UsageQuery,
  options: { readonly site: string; readonly remote?: RemotePulls },
): Promise<UsageReport> {
  const now = access.now();
  const galleries = await reportGalleries(access, actor, query.gallery);
  const rows = (await galleryVersions(access, galleries)).filter((r) => r.state !== "deleted");
  const definitions =
    galleries.length === 0
      ? []
      : await access.db
          .selectFrom("gallery_images")
          .select(["gallery", "name", "metadata"])
          .where("gallery", "in", galleries)
          .execute();
  const rebuildDays = new Map<string, number>();
  for (const d of definitions) {
    const days = (JSON.parse(d.metadata) as DefinitionMetadata).rebuildDays;
    if (typeof days === "number") rebuildDays.set(`${d.gallery}/${d.name}`, days);
  }

  const local =
    galleries.length === 0
      ? []
      : await access.db
          .selectFrom("gallery_pulls")
          .select(["gallery", "image", "version", "site", "day", "count", "last_at"])
          .where("gallery", "in", galleries)
          .execute();
  const remote = options.remote === undefined ? undefined : await options.remote(galleries);
  const pulls: SitePulls[] = [
    ...local.map((p) => ({ ...p, day: Number(p.day), count: Number(p.count), last_at: Number(p.last_at) })),
    // Another site's own counts are its to report: rows it sent under this site's name are ignored.
    ...(remote?.pulls ?? []).filter((p) => p.site !== options.site),
  ];

  const firstDay = utcDay(now) - (query.days - 1) * DAY_MS;
  const byVersion = new Map<string, SitePulls[]>();
  for (const p of pulls) {
    const key = `${p.gallery}/${p.image}:${p.version}`;
    const list = byVersion.get(key);
    if (list === undefined) byVersion.set(key, [p]);
    else list.push(p);
  }

  const versions: VersionUsage[] = [];
  const contents = [];
  const unused: UsageReport["unused"][number][] = [];
  const stale: UsageReport["stale"][number][] = [];
  for (const row of rows) {
    const mine = byVersion.get(`${row.gallery}/${row.image}:${row.version}`) ?? [];
    const bySite: Record<string, number> = {};
    const byDay = new Map<number, number>();
    let total = 0;
    let recent = 0;
    let last = 0;
    for (const p of mine) {
      total += p.count;
      bySite[p.site] = (bySite[p.site] ?? 0) + p.count;
      last = Math.max(last, p.last_at);
      if (p.day >= firstDay) {
        recent += p.count;
        byDay.set(p.day, (byDay.get(p.day) ?? 0) + p.count);
      }
    }
    const built = await builtAt(access, row);
    // Read once: the version's bytes and sprawl both work on what it reaches.
    const sizes = await access.reachable(`${row.gallery}/${row.image}`, row.digest as Digest);
    const createdAt = Number(row.created_at);
    versions.push({
      gallery: row.gallery,
      image: row.image,
      version: row.version,
      digest: row.digest,
      state: row.state,
      publishedAt: iso(createdAt),
      builtAt: iso(built.at),
      builtFrom: built.from,
      pulls: {
        total,
        recent,
        bySite,
        byDay: [...byDay.entries()]
          .sort(([a], [b]) => a - b)
          .map(([day, count]) => ({ day: dayText(day), count })),
        lastPulledAt: last === 0 ? null : iso(last),
      },
      bytes: await access.versionBytes(row, sizes),
    });
    const since = last === 0 ? createdAt : last;
    if (now - since >= query.unusedDays * DAY_MS) {
      unused.push({
        gallery: row.gallery,
        image: row.image,
        version: row.version,
        lastPulledAt: last === 0 ? null : iso(last),
        idleDays: daysBetween(since, now),
      });
    }
    const cadence = rebuildDays.get(`${row.gallery}/${row.image}`);
    if (cadence !== undefined && now - built.at > cadence * DAY_MS) {
      stale.push({
        gallery: row.gallery,
        image: row.image,
        version: row.version,
        builtAt: iso(built.at),
        builtFrom: built.from,
        ageDays: daysBetween(built.at, now),
        rebuildDays: cadence,
      });
    }
    contents.push({
      gallery: row.gallery,
      image: row.image,
      version: row.version,
      sizes,
    });
  }
  return {
    site: options.site,
    at: iso(now),
    days: query.days,
    unusedDays: query.unusedDays,
    galleries,
    sites: [{ name: options.site, status: "ok" }, ...(remote?.sites ?? [])],
    versions,
    unused,
    stale,
    sprawl: { sharedDefinitions: sharedDefinitions(contents), nearIdentical: nearIdentical(contents) },
  };
}
