// The computed changelog of a version: after a publish (and a copy into another gallery) the
// gallery diffs the version against the definition's previous version — the highest number
// below it that is not deleted — and stores the diff as a referrer of the version's content
// (artifactType application/vnd.strata.diff.v1+json, the older digest in an annotation), so it
// travels with the content like any referrer. The version's detail shows it as `changes` beside
// the human changelog. The diff is derived data: when it cannot be made (content of a kind the
// diff does not read, a damaged layer), the version is published all the same and the reason
// logged. Images are read straight from the blob pool; the work runs in the gallery's background
// queue (background.ts), so a publish does not wait for it.
import {
  DIFF_ARTIFACT_TYPE,
  DIFF_BASE_ANNOTATION,
  diffImages,
  diffReferrer,
  type ContentSource,
  type ImageDiff,
  type InventoryOf,
} from "../diff/index.ts";
import { isDigest, type Digest } from "../oci/index.ts";
import type { GalleryContext } from "./context.ts";
import type { VersionChanges } from "./model.ts";
import { versionRows } from "./resolve.ts";
import { compareVersions, parseVersionNumber } from "./semver.ts";
import { readPoolManifest, storeEndpoint } from "./store-endpoint.ts";

/** Files listed per kind in a stored diff (the totals are always exact). */
const MAX_FILES = 1000;
const MANIFEST_MAX = 4 * 1024 * 1024;
const DIFF_MAX = 64 * 1024 * 1024;

/** The version's repository as a content source: manifests and layers read from the pool. */
export function poolSource(ctx: GalleryContext, repository: string): ContentSource {
  const endpoint = storeEndpoint(ctx, repository);
  return {
    name: repository,
    resolve: (reference) => endpoint.resolve(reference),
    // From the pool, not through the endpoint, which reads only the repository's own manifests:
    // a disk version's subject image is in another repository (a publish copies the disk alone).
    readManifest: async (digest) => {
      if (!isDigest(digest)) throw new Error(`Invalid digest "${digest}"`);
      return readPoolManifest(ctx.blobs, digest);
    },
    openBlob: (descriptor) => ctx.blobs.open(descriptor.digest as Digest),
    referrers: (digest) => endpoint.referrers(digest),
  };
}

/** The highest version below `version` of the definition that is not deleted. */
export async function previousVersion(
  ctx: GalleryContext,
  gallery: string,
  image: string,
  version: string,
): Promise<{ version: string; digest: string } | undefined> {
  const number = parseVersionNumber(version);
  let best: { version: string; digest: string } | undefined;
  for (const row of await versionRows(ctx.db, gallery, image)) {
    if (row.deleted_at !== null) continue;
    const candidate = parseVersionNumber(row.version);
    if (compareVersions(candidate, number) >= 0) continue;
    if (best === undefined || compareVersions(candidate, parseVersionNumber(best.version)) > 0)
      best = { version: row.version, digest: row.digest };
  }
  return best;
}

export interface RecordChangesOptions {
  /** Reads a root filesystem's packages when an image has no SBOM attached. */
  readonly inventoryOf?: InventoryOf;
}

/**
 * Diffs the version `target` (content `digest`) against the definition's previous version and
 * attaches the diff; returns it, or undefined when there is no previous version or the diff could
 * not be made (logged).
 */
export async function recordChanges(
  ctx: GalleryContext,
  target: { gallery: string; image: string; version: string },
  digest: string,
  options: RecordChangesOptions = {},
): Promise<ImageDiff | undefined> {
  const repository = `${target.gallery}/${target.image}`;
  const previous = await previousVersion(ctx, target.gallery, target.image, target.version);
  if (previous === undefined || previous.digest === digest) return undefined;
  try {
    const source = poolSource(ctx, repository);
    const diff = await diffImages(
      { source, reference: previous.digest, name: `${repository}:${previous.version}` },
      { source, reference: digest, name: `${repository}:${target.version}` },
      {
        maxFiles: MAX_FILES,
        ...(options.inventoryOf === undefined ? {} : { inventoryOf: options.inventoryOf }),
      },
    );
    const record = await ctx.meta.manifests.get(repository, digest as Digest);
    if (record === undefined) return undefined;
    const referrer = diffReferrer(diff, { mediaType: record.mediaType, digest, size: record.size });
    const endpoint = storeEndpoint(ctx, repository);
    for (const blob of referrer.blobs) await endpoint.putBlob(blob, { bytes: blob.bytes });
    await endpoint.putManifest(
      { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.manifest.length },
      referrer.manifest,
    );
    return diff;
  } catch (error) {
    ctx.log.warn(
      { repository, digest, against: previous.digest, err: error },
      `No computed changes for ${repository}:${target.version}: ${(error as Error).message}`,
    );
    return undefined;
  }
}

/** The newest stored diff of `digest` in the version's repository, summarised. */
export async function changesOf(
  ctx: GalleryContext,
  repository: string,
  digest: string,
  against?: { version: string; digest: string },
): Promise<{ summary: VersionChanges; diff: ImageDiff } | undefined> {
  if (!isDigest(digest)) return undefined;
  const rows = (await ctx.meta.manifests.referrers(repository, digest, DIFF_ARTIFACT_TYPE)).sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
  );
  const row =
    rows.find((r) => against !== undefined && r.annotations?.[DIFF_BASE_ANNOTATION] === against.digest) ??
    rows[0];
  if (row === undefined) return undefined;
  const manifest = JSON.parse((await ctx.blobs.read(row.digest, MANIFEST_MAX)).toString("utf8")) as {
    layers?: { digest: string; mediaType: string }[];
  };
  const layer = manifest.layers?.find((l) => l.mediaType === DIFF_ARTIFACT_TYPE);
  if (layer === undefined || !isDigest(layer.digest)) return undefined;
  const diff = JSON.parse((await ctx.blobs.read(layer.digest, DIFF_MAX)).toString("utf8")) as ImageDiff;
  const base = row.annotations?.[DIFF_BASE_ANNOTATION] ?? diff.before.digest;
  const p = diff.packages;
  const configChanged =
    diff.config === undefined || diff.config.unchanged
      ? undefined
      : Object.entries(diff.config)
          .filter(([key, value]) => {
            if (key === "unchanged" || value === undefined) return false;
            const v = value as { added?: unknown[]; removed?: unknown[]; changed?: unknown[] };
            if (Array.isArray(v.added) || Array.isArray(v.removed))
              return (v.added?.length ?? 0) + (v.removed?.length ?? 0) + (v.changed?.length ?? 0) > 0;
            return true;
          })
          .map(([key]) => key);
  return {
    diff,
    summary: {
      against: {
        ...(against !== undefined && against.digest === base ? { version: against.version } : {}),
        digest: base,
      },
      referrer: row.digest,
      ...(p?.available === true
        ? {
            packages: {
              added: p.added.length,
              removed: p.removed.length,
              upgraded: p.upgraded.length,
              downgraded: p.downgraded.length,
            },
          }
        : {}),
      ...(diff.files === undefined
        ? {}
        : {
            files: {
              added: diff.files.totals.added.count,
              removed: diff.files.totals.removed.count,
              changed: diff.files.totals.changed.count,
            },
          }),
      ...(configChanged === undefined ? {} : { config: configChanged }),
    },
  };
}
