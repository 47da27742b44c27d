// The replication plan of a version: per site, what moving it there would send (every blob and
// manifest of the version and its referrers that the site lacks, found by HEAD in parallel in
// the repository the version would land in), the one-time egress cost of those bytes and the
// monthly cost of storing the version there. A site that cannot be reached is reported with the
// reason; the others are still planned.
import {
  GalleryError,
  type Actor,
  type DefinitionMetadata,
  type GalleryAccess,
  type VersionsTable,
} from "../gallery/index.ts";
import type { Digest } from "../oci/index.ts";
import { RegistryClient } from "../remote/index.ts";
import { cost, pickSites, siteRepository, type RemoteSite, type Sites } from "./sites.ts";
import { versionGraph, type VersionGraph } from "./version-graph.ts";

export interface SitePlan {
  readonly site: string;
  readonly kind: RemoteSite["kind"];
  readonly region?: string;
  readonly url: string;
  readonly repository: string;
  readonly status: "ok" | "unreachable";
  readonly reason?: string;
  /** Blobs and manifests the site lacks, and their bytes (when it could be reached). */
  readonly missing?: { readonly blobs: number; readonly manifests: number; readonly bytes: number };
  /** One-time: missing bytes × the site's egressPerGiB. */
  readonly egressCost?: number;
  /** Every month: the version's bytes × the site's storagePerGiBMonth. */
  readonly storageMonthlyCost: number;
}

export interface ReplicationPlan {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly digest: string;
  /** Everything the version brings: blobs and manifests with their bytes, referrers included. */
  readonly total: { readonly blobs: number; readonly manifests: number; readonly bytes: number };
  readonly sites: readonly SitePlan[];
}

export interface PlanOptions {
  /** ms per request to a site. */
  readonly timeoutMs?: number;
  /** HEAD requests in flight per site. */
  readonly concurrency?: number;
}

const TIMEOUT_MS = 10_000;
const CONCURRENCY = 8;

export async function replicationPlan(
  access: GalleryAccess,
  actor: Actor,
  key: { readonly gallery: string; readonly image: string; readonly version: string },
  names: readonly string[] | undefined,
  sites: Sites,
  options: PlanOptions = {},
): Promise<ReplicationPlan> {
  // Input first: an unknown site is refused before anything is read or asked.
  if (names !== undefined) pickSites(sites, names);
  await access.requireRole(actor, key.gallery, "reader");
  const row = await access.db
    .selectFrom("gallery_versions")
    .selectAll()
    .where("gallery", "=", key.gallery)
    .where("image", "=", key.image)
    .where("version", "=", key.version)
    .executeTakeFirst();
  if (row === undefined || row.state === "deleted") {
    throw new GalleryError(
      "NOT_FOUND",
      `Version "${key.gallery}/${key.image}:${key.version}" does not exist${row === undefined ? "" : " (it is deleted)"}`,
      { detail: { ...key } },
    );
  }
  const chosen = pickSites(sites, names ?? (await defaultSites(access, row, sites)));
  const graph = await versionGraph(access, `${row.gallery}/${row.image}`, row.digest as Digest);
  const total = {
    blobs: graph.blobs.size,
    manifests: graph.manifests.size,
    bytes: sum(graph.blobs) + sum(graph.manifests),
  };
  const planned = await Promise.all(
    chosen.map(([name, site]) => planSite(name, site, row.gallery, row.image, graph, total.bytes, options)),
  );
  return {
    gallery: row.gallery,
    image: row.image,
    version: row.version,
    digest: row.digest,
    total,
    sites: planned,
  };
}

/**
 * The sites a plan without names covers: the version's targets (its replica rows), else its
 * definition's `replicateTo`, else every configured site; names no longer configured left out.
 */
async function defaultSites(access: GalleryAccess, row: VersionsTable, sites: Sites): Promise<string[]> {
  const known = (names: readonly string[]) => names.filter((name) => Object.hasOwn(sites.remote, name));
  const targets = await access.db
    .selectFrom("gallery_replicas")
    .select("site")
    .where("gallery", "=", row.gallery)
    .where("image", "=", row.image)
    .where("version", "=", row.version)
    .where("state", "!=", "removing")
    .orderBy("site")
    .execute();
  if (known(targets.map((t) => t.site)).length > 0) return known(targets.map((t) => t.site));
  const definition = await access.db
    .selectFrom("gallery_images")
    .select("metadata")
    .where("gallery", "=", row.gallery)
    .where("name", "=", row.image)
    .executeTakeFirst();
  const replicateTo =
    definition === undefined
      ? []
      : ((JSON.parse(definition.metadata) as DefinitionMetadata).replicateTo ?? []);
  if (known(replicateTo).length > 0) return known(replicateTo);
  return Object.keys(sites.remote);
}

function sum(sizes: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const size of sizes.values()) n += size;
  return n;
}

async function planSite(
  name: string,
  site: RemoteSite,
  gallery: string,
  image: string,
  graph: VersionGraph,
  totalBytes: number,
  options: PlanOptions,
): Promise<SitePlan> {
  const repository = siteRepository(site, gallery, image);
  const base = {
    site: name,
    kind: site.kind,
    ...(site.region === undefined ? {} : { region: site.region }),
    url: site.url,
    repository,
    storageMonthlyCost: cost(totalBytes, site.cost.storagePerGiBMonth),
  };
  const url = new URL(site.url);
  const client = new RegistryClient({
    registry: url.host,
    insecure: url.protocol === "http:",
    timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
    ...(site.username === undefined
      ? {}
      : { credentials: { username: site.username, password: site.password ?? "" } }),
  });
  const checks: { digest: Digest; size: number; manifest: boolean }[] = [
    ...[...graph.manifests].map(([digest, size]) => ({ digest, size, manifest: true })),
    ...[...graph.blobs].map(([digest, size]) => ({ digest, size, manifest: false })),
  ];
  const missing = { blobs: 0, manifests: 0, bytes: 0 };
  let failure: unknown;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < checks.length && failure === undefined; i = next++) {
      const check = checks[i];
      if (check === undefined) continue;
      try {
        const present = check.manifest
          ? await hasManifest(client, repository, check.digest)
          : await client.hasBlob(repository, check.digest);
        if (present) continue;
        missing.bytes += check.size;
        if (check.manifest) missing.manifests += 1;
        else missing.blobs += 1;
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? CONCURRENCY, checks.length) }, worker),
  );
  if (failure !== undefined) {
    return {
      ...base,
      status: "unreachable",
      reason: failure instanceof Error ? failure.message : String(failure),
    };
  }
  return { ...base, status: "ok", missing, egressCost: cost(missing.bytes, site.cost.egressPerGiB) };
}

async function hasManifest(client: RegistryClient, repository: string, digest: Digest): Promise<boolean> {
  const what = `manifest ${digest}`;
  const response = await client.request("HEAD", `/v2/${repository}/manifests/${digest}`, {
    scope: `repository:${repository}:pull`,
    headers: {
      accept: [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
      ].join(", "),
    },
    what,
  });
  await response.body?.cancel();
  if (response.status === 404) return false;
  if (!response.ok) return client.fail(response, `Cannot check ${what} in ${repository}`);
  return true;
}
