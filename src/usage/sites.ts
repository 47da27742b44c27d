// The sites usage reports and plans speak of: this one (its name and storage cost) and the
// configured replication sites (where a version lands there and what storage and egress cost).
import { GalleryError } from "../gallery/index.ts";

export interface ThisSite {
  readonly name: string;
  readonly region?: string;
  readonly cost: { readonly storagePerGiBMonth: number };
}

export interface RemoteSite {
  readonly url: string;
  readonly kind: "strata" | "registry";
  readonly region?: string;
  readonly username?: string;
  readonly password?: string;
  readonly repositoryPrefix?: string;
  readonly cost: { readonly storagePerGiBMonth: number; readonly egressPerGiB: number };
}

export interface Sites {
  readonly self: ThisSite;
  readonly remote: Readonly<Record<string, RemoteSite>>;
}

export const GiB = 1024 ** 3;

/** An amount of money for `bytes` at `perGiB`, rounded to 1/10000 (shown to 2 decimals). */
export const cost = (bytes: number, perGiB: number): number =>
  Math.round((bytes / GiB) * perGiB * 10_000) / 10_000;

/** Where a version of `<gallery>/<image>` lands at a site. */
export function siteRepository(site: RemoteSite, gallery: string, image: string): string {
  const prefix = site.kind === "registry" ? (site.repositoryPrefix ?? "").replace(/^\/+|\/+$/g, "") : "";
  return prefix === "" ? `${gallery}/${image}` : `${prefix}/${gallery}/${image}`;
}

/** The named sites, in the order given; an unknown name is refused with the known ones. */
export function pickSites(sites: Sites, names: readonly string[]): [string, RemoteSite][] {
  const known = Object.keys(sites.remote);
  const unknown = names.filter((name) => !Object.hasOwn(sites.remote, name));
  if (unknown.length > 0) {
    throw new GalleryError(
      "INVALID",
      `Unknown site ${unknown.map((n) => JSON.stringify(n.slice(0, 64))).join(", ")}: ${
        known.length === 0 ? "no sites are configured" : `configured sites are ${known.join(", ")}`
      }`,
      { detail: { unknown: unknown.map((n) => n.slice(0, 64)), known } },
    );
  }
  return [...new Set(names)].map((name) => [name, sites.remote[name] as RemoteSite]);
}
