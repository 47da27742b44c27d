// Storage per site and gallery with its monthly cost. At this site a gallery stores the distinct
// blobs and manifests its versions reach (a digest several of its versions share counts once;
// one shared with another gallery counts in each, as each would keep it alone); at a remote site
// the same, over the versions whose replica there is completed. Amounts have no currency: they
// are in whatever unit the configured prices are.
import type { Actor, GalleryAccess, VersionsTable } from "../gallery/index.ts";
import type { Digest } from "../oci/index.ts";
import { galleryVersions, reportGalleries } from "./report.ts";
import { cost, type Sites } from "./sites.ts";

export interface GalleryStorage {
  readonly gallery: string;
  readonly versions: number;
  readonly bytes: number;
  readonly monthly: number;
}

export interface SiteStorage {
  readonly site: string;
  /** `this`: the site answering; else the configured site's kind. */
  readonly kind: "this" | "strata" | "registry";
  readonly region?: string;
  readonly storagePerGiBMonth: number;
  readonly bytes: number;
  readonly monthly: number;
  readonly galleries: readonly GalleryStorage[];
}

export interface CostReport {
  readonly at: string;
  readonly galleries: readonly string[];
  readonly sites: readonly SiteStorage[];
  readonly monthly: number;
}

export async function costReport(
  access: GalleryAccess,
  actor: Actor,
  query: { readonly gallery?: string },
  sites: Sites,
): Promise<CostReport> {
  const galleries = await reportGalleries(access, actor, query.gallery);
  const rows = await galleryVersions(access, galleries);
  const reached = new Map<string, Map<Digest, number>>();
  const content = async (row: VersionsTable): Promise<Map<Digest, number>> => {
    const key = `${row.gallery}/${row.image}@${row.digest}`;
    let sizes = reached.get(key);
    if (sizes === undefined) {
      sizes = await access.reachable(`${row.gallery}/${row.image}`, row.digest as Digest);
      reached.set(key, sizes);
    }
    return sizes;
  };
  const storage = async (chosen: readonly VersionsTable[], perGiB: number): Promise<GalleryStorage[]> => {
    const out: GalleryStorage[] = [];
    for (const gallery of galleries) {
      const mine = chosen.filter((r) => r.gallery === gallery);
      const digests = new Map<Digest, number>();
      for (const row of mine) for (const [digest, size] of await content(row)) digests.set(digest, size);
      let bytes = 0;
      for (const size of digests.values()) bytes += size;
      out.push({ gallery, versions: mine.length, bytes, monthly: cost(bytes, perGiB) });
    }
    return out;
  };
  const site = (
    name: string,
    kind: SiteStorage["kind"],
    region: string | undefined,
    perGiB: number,
    list: GalleryStorage[],
  ): SiteStorage => {
    const bytes = list.reduce((n, g) => n + g.bytes, 0);
    return {
      site: name,
      kind,
      ...(region === undefined ? {} : { region }),
      storagePerGiBMonth: perGiB,
      bytes,
      monthly: cost(bytes, perGiB),
      galleries: list,
    };
  };

  const out: SiteStorage[] = [
    site(
      sites.self.name,
      "this",
      sites.self.region,
      sites.self.cost.storagePerGiBMonth,
      await storage(rows, sites.self.cost.storagePerGiBMonth),
    ),
  ];
  const completed =
    galleries.length === 0
      ? []
      : await access.db
          .selectFrom("gallery_replicas")
          .select(["gallery", "image", "version", "site"])
          .where("gallery", "in", galleries)
          .where("state", "=", "completed")
          .execute();
  for (const [name, remote] of Object.entries(sites.remote)) {
    const here = new Set(
      completed.filter((r) => r.site === name).map((r) => `${r.gallery}/${r.image}:${r.version}`),
    );
    const chosen = rows.filter((r) => here.has(`${r.gallery}/${r.image}:${r.version}`));
    const perGiB = remote.cost.storagePerGiBMonth;
    out.push(site(name, remote.kind, remote.region, perGiB, await storage(chosen, perGiB)));
  }
  return {
    at: new Date(access.now()).toISOString(),
    galleries,
    sites: out,
    monthly: Math.round(out.reduce((n, s) => n + s.monthly, 0) * 10_000) / 10_000,
  };
}
