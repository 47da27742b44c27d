// What the domains that keep their own rows in the gallery's tables (usage counts pulls into
// gallery_pulls, replication tracks gallery_replicas) work with: the database and its clock, the
// role check, and the bytes of a version's content. Everything else goes through the service.
import type { Kysely } from "kysely";
import type { Digest } from "../oci/index.ts";
import type { BlobStore, Dialect, MetadataStore } from "../store/index.ts";
import { requireRole, type Actor, type GalleryContext } from "./context.ts";
import type { GalleryDatabase, VersionsTable } from "./db/schema.ts";
import type { Role, VersionBytes } from "./model.ts";
import { reachableSizes, versionBytes } from "./version-bytes.ts";

export interface GalleryAccess {
  readonly db: Kysely<GalleryDatabase>;
  readonly dialect: Dialect;
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
  /** The gallery's clock (tests move it). */
  readonly now: () => number;
  /** Bumped after every change this server makes; a cache of gallery state is valid within one value. */
  readonly generation: { readonly value: number };
  /** Throws the gallery's NOT_FOUND, UNAUTHORIZED or FORBIDDEN unless the caller holds `role`. */
  requireRole(actor: Actor, gallery: string, role: Role): Promise<void>;
  /** Names of the galleries the caller may read (all when authentication is off). */
  readableGalleries(actor: Actor): Promise<string[]>;
  /** Total, own and shared bytes of a version (see version-bytes.ts); `sizes`: from reachable(). */
  versionBytes(row: VersionsTable, sizes?: ReadonlyMap<Digest, number>): Promise<VersionBytes>;
  /** Every digest reachable from a manifest of a repository (itself, children, blobs), with its size. */
  reachable(repository: string, digest: Digest): Promise<Map<Digest, number>>;
}

export function galleryAccess(
  ctx: GalleryContext,
  readable: (actor: Actor) => Promise<readonly { name: string }[]>,
): GalleryAccess {
  return {
    db: ctx.db,
    dialect: ctx.dialect,
    meta: ctx.meta,
    blobs: ctx.blobs,
    now: ctx.now,
    generation: ctx.generation,
    requireRole: (actor, gallery, role) => requireRole(ctx, ctx.db, actor, gallery, role),
    readableGalleries: async (actor) => (await readable(actor)).map((g) => g.name),
    versionBytes: (row, sizes) => versionBytes(ctx, row, sizes === undefined ? {} : { sizes }),
    reachable: (repository, digest) => reachableSizes(ctx, repository, digest),
  };
}
