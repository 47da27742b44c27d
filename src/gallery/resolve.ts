// Gallery references at request time: in repository `<gallery>/<definition>`, a version number
// names that version, a channel name the version the channel points at, and `latest` the
// computed latest version.
import type { Digest } from "../oci/index.ts";
import type { Db, GalleryContext } from "./context.ts";
import type { VersionsTable } from "./db/schema.ts";
import { computeLatest } from "./lifecycle.ts";
import { LATEST, type ImageVersion } from "./model.ts";
import { toVersion } from "./rows.ts";
import { isVersionNumber } from "./semver.ts";

export interface GalleryRepo {
  readonly gallery: string;
  readonly image: string;
  readonly mode: string;
  readonly restoreDays: number;
}

/** The gallery and definition of a repository name, when it is one. */
export async function galleryRepo(db: Db, repository: string): Promise<GalleryRepo | undefined> {
  const slash = repository.indexOf("/");
  if (slash < 0 || repository.indexOf("/", slash + 1) >= 0) return undefined;
  const gallery = repository.slice(0, slash);
  const image = repository.slice(slash + 1);
  const row = await db
    .selectFrom("gallery_images")
    .innerJoin("gallery_galleries", "gallery_galleries.name", "gallery_images.gallery")
    .select(["gallery_galleries.mode", "gallery_galleries.restore_days"])
    .where("gallery_images.gallery", "=", gallery)
    .where("gallery_images.name", "=", image)
    .executeTakeFirst();
  return row === undefined ? undefined : { gallery, image, mode: row.mode, restoreDays: row.restore_days };
}

export async function versionRows(db: Db, gallery: string, image: string): Promise<VersionsTable[]> {
  return db
    .selectFrom("gallery_versions")
    .selectAll()
    .where("gallery", "=", gallery)
    .where("image", "=", image)
    .orderBy("major", "desc")
    .orderBy("minor", "desc")
    .orderBy("patch", "desc")
    .execute();
}

export async function versionRow(
  db: Db,
  gallery: string,
  image: string,
  version: string,
): Promise<VersionsTable | undefined> {
  return db
    .selectFrom("gallery_versions")
    .selectAll()
    .where("gallery", "=", gallery)
    .where("image", "=", image)
    .where("version", "=", version)
    .executeTakeFirst();
}

export async function latestVersion(
  ctx: GalleryContext,
  db: Db,
  repo: { gallery: string; image: string; restoreDays: number },
): Promise<ImageVersion | undefined> {
  const now = ctx.now();
  const all = (await versionRows(db, repo.gallery, repo.image)).map((r) =>
    toVersion(r, now, repo.restoreDays),
  );
  return computeLatest(all);
}

/** The version a reference names in a gallery repository; undefined if it names none. */
export async function resolveVersion(
  ctx: GalleryContext,
  db: Db,
  repo: GalleryRepo,
  reference: string,
): Promise<ImageVersion | undefined> {
  const now = ctx.now();
  if (reference === LATEST) return latestVersion(ctx, db, repo);
  let version: string | null | undefined;
  if (isVersionNumber(reference)) {
    version = reference;
  } else {
    const channel = await db
      .selectFrom("gallery_channels")
      .select("version")
      .where("gallery", "=", repo.gallery)
      .where("image", "=", repo.image)
      .where("name", "=", reference)
      .executeTakeFirst();
    version = channel?.version;
  }
  if (version === undefined || version === null) return undefined;
  const row = await versionRow(db, repo.gallery, repo.image, version);
  return row === undefined ? undefined : toVersion(row, now, repo.restoreDays);
}

export async function resolveDigest(
  ctx: GalleryContext,
  repository: string,
  reference: string,
): Promise<Digest | undefined> {
  const repo = await galleryRepo(ctx.db, repository);
  if (repo === undefined) return undefined;
  return (await resolveVersion(ctx, ctx.db, repo, reference))?.digest as Digest | undefined;
}
