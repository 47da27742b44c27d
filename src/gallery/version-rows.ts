// Reading versions: one version's row (or a clear NOT_FOUND) and its view at the current time,
// and the versions that pin given digests.
import type { Db, GalleryContext } from "./context.ts";
import type { VersionsTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import { mustLoadGallery } from "./galleries.ts";
import type { ImageVersion } from "./model.ts";
import { versionRow } from "./resolve.ts";
import { toVersion } from "./rows.ts";
import { parseVersionNumber } from "./semver.ts";

export interface VersionKey {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
}

export async function mustLoadVersionRow(
  db: Db,
  gallery: string,
  image: string,
  version: string,
): Promise<VersionsTable> {
  parseVersionNumber(version);
  const row = await versionRow(db, gallery, image, version);
  if (row === undefined) {
    throw new GalleryError("NOT_FOUND", `Version ${q(`${gallery}/${image}:${version}`)} does not exist`, {
      detail: { gallery, image, version },
    });
  }
  return row;
}

/** The version as the API shows it, with its state at this moment. */
export async function viewVersion(
  ctx: GalleryContext,
  db: Db,
  gallery: string,
  row: VersionsTable,
): Promise<ImageVersion> {
  const g = await mustLoadGallery(db, gallery);
  return toVersion(row, ctx.now(), g.restoreDays);
}

export async function reloadVersion(ctx: GalleryContext, db: Db, key: VersionKey): Promise<ImageVersion> {
  return viewVersion(ctx, db, key.gallery, await mustLoadVersionRow(db, key.gallery, key.image, key.version));
}

/** Digests per IN list of a query. */
const IN_LIST_MAX = 500;

export interface PinningVersion extends VersionKey {
  readonly digest: string;
}

/**
 * The versions (deleted ones included: they can be restored) pinning any of `digests`, in every
 * gallery or, with `definition`, in that one definition only; any number of digests.
 */
export async function versionsPinning(
  db: Db,
  digests: Iterable<string>,
  definition?: { gallery: string; image: string },
): Promise<PinningVersion[]> {
  const distinct = [...new Set(digests)];
  const found: PinningVersion[] = [];
  for (let i = 0; i < distinct.length; i += IN_LIST_MAX) {
    let query = db
      .selectFrom("gallery_versions")
      .select(["gallery", "image", "version", "digest"])
      .where("digest", "in", distinct.slice(i, i + IN_LIST_MAX));
    if (definition !== undefined)
      query = query.where("gallery", "=", definition.gallery).where("image", "=", definition.image);
    found.push(...(await query.execute()));
  }
  return found;
}
