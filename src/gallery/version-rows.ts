// Reading one version: its row (or a clear NOT_FOUND) and its view at the current time.
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
