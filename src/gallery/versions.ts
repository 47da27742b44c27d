// Image versions: publishing pins one manifest or index digest under a Major.Minor.Patch
// number, once; copying brings a version into another gallery; reading lists them and computes
// latest. What may change afterwards is in version-lifecycle.ts.
import {
  type Actor,
  type Db,
  type GalleryContext,
  actorName,
  audit,
  emit,
  inTransaction,
  requireRole,
} from "./context.ts";
import { withClaim } from "../store/index.ts";
import { checkChunkedDisk } from "./chunked-disk.ts";
import { baseDigestOf, checkKind, copyInto, resolveFrom } from "./content.ts";
import { parseFutureDate } from "./dates.ts";
import type { VersionsTable } from "./db/schema.ts";
import { GalleryError, q } from "./errors.ts";
import { mustLoadGallery } from "./galleries.ts";
import { mustLoadImage } from "./images.ts";
import type { Approval, ImageVersion, ImageVersionDetail } from "./model.ts";
import { latestVersion, resolveDigest, versionRow, versionRows } from "./resolve.ts";
import { toVersion } from "./rows.ts";
import type { VersionPublish } from "./schemas.ts";
import { replicaRows, toReplicaStatus, writeTargets } from "./replicas.ts";
import { parseVersionNumber } from "./semver.ts";
import { checkSigningKey, signVersion } from "./signing.ts";
import { changesOf, previousVersion, recordChanges, type RecordChangesOptions } from "./changes.ts";
import type { ImageDiff } from "../diff/index.ts";
import { versionLifecycleOps } from "./version-lifecycle.ts";
import { versionBytes } from "./version-bytes.ts";
import { mustLoadVersionRow, viewVersion } from "./version-rows.ts";
import { checkVersionPage, versionPage, type VersionPageQuery } from "./version-page.ts";

export type { RevokeResult } from "./version-lifecycle.ts";

/** A page of versions with the total matching, the page's offset and the cursors either side. */
export interface VersionPage {
  readonly versions: ImageVersion[];
  readonly total: number;
  readonly offset: number;
  readonly next?: string;
  readonly previous?: string;
}

export interface PublishResult {
  readonly version: ImageVersion;
  /** False when the same version with the same content already existed (a no-op). */
  readonly created: boolean;
}

export function versionOps(ctx: GalleryContext, changeOptions: RecordChangesOptions = {}) {
  const view = (db: Db, gallery: string, row: VersionsTable): Promise<ImageVersion> =>
    viewVersion(ctx, db, gallery, row);

  /**
   * Inserts a version row for content already in the repository; the registry tag follows.
   * Exactly one of concurrent inserts of a number wins; the others see what won.
   */
  async function insertVersion(
    actor: Actor,
    target: { gallery: string; image: string },
    input: VersionPublish & {
      digest: string;
      mediaType: string;
      baseDigest: string | undefined;
      approvals?: readonly Approval[];
    },
    eol: number | null,
    action: string,
  ): Promise<PublishResult> {
    const number = parseVersionNumber(input.version);
    const { gallery, image } = target;
    const outcome = await inTransaction(ctx, async (trx) => {
      const now = ctx.now();
      const metadata = Object.fromEntries(
        Object.entries({
          changelog: input.changelog,
          buildId: input.buildId,
          sourceRevision: input.sourceRevision,
          owner: input.owner,
        }).filter(([, v]) => v !== undefined),
      );
      const inserted = await trx
        .insertInto("gallery_versions")
        .values({
          gallery,
          image,
          version: input.version,
          major: number.major,
          minor: number.minor,
          patch: number.patch,
          digest: input.digest,
          media_type: input.mediaType,
          metadata: JSON.stringify(metadata),
          base_digest: input.baseDigest ?? null,
          state: "published",
          eol,
          exclude_from_latest: input.excludeFromLatest === true ? 1 : 0,
          approvals: JSON.stringify(input.approvals ?? []),
          deprecation: null,
          revoke_reason: null,
          revoke_at: null,
          revoked_by: null,
          deleted_at: null,
          deleted_by: null,
          state_before_delete: null,
          restored_at: null,
          created_at: now,
          published_by: actorName(actor),
        })
        .onConflict((oc) => oc.columns(["gallery", "image", "version"]).doNothing())
        .executeTakeFirst();
      const row = await mustLoadVersionRow(trx, gallery, image, input.version);
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return { row, created: false };
      const version = await view(trx, gallery, row);
      await audit(ctx, trx, actor, { action, gallery, image, version: input.version, after: version });
      await emit(
        ctx,
        trx,
        { type: "version.published", gallery, image, version: input.version, digest: input.digest },
        actor,
      );
      // The definition's sites become the version's replication targets (sites no longer
      // configured are left out).
      const definition = await mustLoadImage(trx, gallery, image);
      const sites = (definition.replicateTo ?? []).filter((site) => ctx.sites.has(site));
      if (sites.length > 0)
        await writeTargets(ctx, trx, { gallery, image, version: input.version, digest: input.digest }, sites);
      return { row, created: true };
    });
    if (outcome.created) ctx.replicasChanged();
    if (!outcome.created) {
      if (outcome.row.digest !== input.digest) {
        throw new GalleryError(
          "CONFLICT",
          `Version ${q(`${gallery}/${image}:${input.version}`)} already exists with other content: ${outcome.row.digest}, not ${input.digest}`,
          {
            detail: {
              gallery,
              image,
              version: input.version,
              existing: outcome.row.digest,
              offered: input.digest,
            },
          },
        );
      }
      return { version: await view(ctx.db, gallery, outcome.row), created: false };
    }
    // The version number becomes an (immutable) tag of the repository, for listings and clients.
    const repository = `${gallery}/${image}`;
    const record = await ctx.meta.manifests.get(repository, input.digest as never);
    if (record !== undefined) {
      const { repository: _r, createdAt: _c, ...manifest } = record;
      // Under a claim, and only while the manifest is still there: a tag never brings back a
      // manifest whose bytes garbage collection may have removed since.
      await withClaim(ctx.meta, [manifest.digest, ...manifest.references], async (claim) => {
        if ((await ctx.meta.manifests.get(repository, manifest.digest)) === undefined) return;
        await ctx.meta.manifests.put(repository, manifest, input.version, { claim });
      });
    }
    return { version: await view(ctx.db, gallery, outcome.row), created: true };
  }

  const ops = {
    ...versionLifecycleOps(ctx),
    async publish(
      actor: Actor,
      gallery: string,
      image: string,
      input: VersionPublish,
    ): Promise<PublishResult> {
      parseVersionNumber(input.version);
      await requireRole(ctx, ctx.db, actor, gallery, "publisher");
      checkSigningKey(ctx, gallery);
      const definition = await mustLoadImage(ctx.db, gallery, image);
      const eol = input.eol === undefined ? null : parseFutureDate("eol", input.eol, ctx.now());
      const record = await resolveFrom(
        ctx,
        input.from,
        (repo, ref) => resolveDigest(ctx, repo, ref),
        actor.user,
      );
      checkKind(definition, record);
      if (definition.kind === "vm") await checkChunkedDisk(ctx, record);
      const existing = await versionRow(ctx.db, gallery, image, input.version);
      if (existing !== undefined && existing.digest !== record.digest) {
        throw new GalleryError(
          "CONFLICT",
          `Version ${q(`${gallery}/${image}:${input.version}`)} already exists with other content: ${existing.digest}, not ${record.digest}`,
          {
            detail: {
              gallery,
              image,
              version: input.version,
              existing: existing.digest,
              offered: record.digest,
            },
          },
        );
      }
      // Content first (links, no tag), then the row: a losing publisher leaves no tag behind. A
      // gallery with a key signs the content before the row makes it a version.
      await copyInto(ctx, record, `${gallery}/${image}`);
      if (existing === undefined)
        await signVersion(ctx, { gallery, image, version: input.version }, record.digest);
      const baseDigest = await baseDigestOf(ctx, record);
      const result = await insertVersion(
        actor,
        { gallery, image },
        { ...input, digest: record.digest, mediaType: record.mediaType, baseDigest },
        eol,
        "version.published",
      );
      if (result.created) {
        const target = { gallery, image, version: input.version };
        ctx.background.run(`changes of ${gallery}/${image}:${input.version}`, () =>
          recordChanges(ctx, target, record.digest, changeOptions),
        );
      }
      return result;
    },

    /** Copies a version into another gallery's definition of the same name (used by promotion). */
    async copy(
      actor: Actor,
      source: { gallery: string; image: string; version: string },
      targetGallery: string,
      approvals: readonly Approval[],
    ): Promise<PublishResult> {
      const row = await mustLoadVersionRow(ctx.db, source.gallery, source.image, source.version);
      const record = await ctx.meta.manifests.get(`${source.gallery}/${source.image}`, row.digest as never);
      if (record === undefined)
        throw new GalleryError("NOT_FOUND", `Content ${q(row.digest)} of the version is missing`);
      checkKind(await mustLoadImage(ctx.db, targetGallery, source.image), record);
      checkSigningKey(ctx, targetGallery);
      await copyInto(ctx, record, `${targetGallery}/${source.image}`);
      if ((await versionRow(ctx.db, targetGallery, source.image, row.version)) === undefined)
        await signVersion(
          ctx,
          { gallery: targetGallery, image: source.image, version: row.version },
          row.digest,
        );
      const metadata = JSON.parse(row.metadata) as Record<string, string>;
      const eol = row.eol !== null && row.eol > ctx.now() ? row.eol : null;
      const result = await insertVersion(
        actor,
        { gallery: targetGallery, image: source.image },
        {
          version: row.version,
          from: `${source.gallery}/${source.image}@${row.digest}`,
          ...metadata,
          excludeFromLatest: row.exclude_from_latest !== 0,
          digest: row.digest,
          mediaType: row.media_type,
          baseDigest: row.base_digest ?? undefined,
          approvals,
        },
        eol,
        "version.copied",
      );
      if (result.created) {
        const target = { gallery: targetGallery, image: source.image, version: row.version };
        ctx.background.run(`changes of ${targetGallery}/${source.image}:${row.version}`, () =>
          recordChanges(ctx, target, row.digest, changeOptions),
        );
      }
      return result;
    },

    /**
     * One page of versions, highest first, keyset-paged by number (version-page.ts): each
     * version is on exactly one page of a walk, whatever is published meanwhile.
     */
    async page(actor: Actor, gallery: string, image: string, query: VersionPageQuery): Promise<VersionPage> {
      checkVersionPage(query);
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      await mustLoadImage(ctx.db, gallery, image);
      const g = await mustLoadGallery(ctx.db, gallery);
      const now = ctx.now();
      const { rows, ...rest } = await versionPage(ctx.db, { gallery, image }, query, now);
      return { versions: rows.map((r) => toVersion(r, now, g.restoreDays)), ...rest };
    },

    async list(
      actor: Actor,
      gallery: string,
      image: string,
      options: { includeDeleted?: boolean } = {},
    ): Promise<ImageVersion[]> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      await mustLoadImage(ctx.db, gallery, image);
      const g = await mustLoadGallery(ctx.db, gallery);
      const now = ctx.now();
      return (await versionRows(ctx.db, gallery, image))
        .map((r) => toVersion(r, now, g.restoreDays))
        .filter((v) => options.includeDeleted === true || v.state !== "deleted");
    },

    /**
     * One version with its bytes (total, own and shared with other versions) and its computed
     * changes against the previous version, when they were recorded.
     */
    async get(actor: Actor, gallery: string, image: string, version: string): Promise<ImageVersionDetail> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      const row = await mustLoadVersionRow(ctx.db, gallery, image, version);
      const previous = await previousVersion(ctx, gallery, image, version);
      const changes = await changesOf(ctx, `${gallery}/${image}`, row.digest, previous);
      const replicas = await replicaRows(ctx.db, { gallery, image, version });
      return {
        ...(await view(ctx.db, gallery, row)),
        bytes: await versionBytes(ctx, row),
        ...(changes === undefined ? {} : { changes: changes.summary }),
        ...(replicas.length === 0 ? {} : { replication: replicas.map((r) => toReplicaStatus(ctx, r)) }),
      };
    },

    /** The whole computed diff of a version against the previous one (readers). */
    async changes(actor: Actor, gallery: string, image: string, version: string): Promise<ImageDiff> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      const row = await mustLoadVersionRow(ctx.db, gallery, image, version);
      const previous = await previousVersion(ctx, gallery, image, version);
      const changes = await changesOf(ctx, `${gallery}/${image}`, row.digest, previous);
      if (changes === undefined)
        throw new GalleryError(
          "NOT_FOUND",
          `Version ${q(`${gallery}/${image}:${version}`)} has no computed changes${previous === undefined ? " (it is the first version)" : ""}`,
        );
      return changes.diff;
    },

    async latest(actor: Actor, gallery: string, image: string): Promise<ImageVersion> {
      await requireRole(ctx, ctx.db, actor, gallery, "reader");
      await mustLoadImage(ctx.db, gallery, image);
      const g = await mustLoadGallery(ctx.db, gallery);
      const latest = await latestVersion(ctx, ctx.db, { gallery, image, restoreDays: g.restoreDays });
      if (latest === undefined) {
        throw new GalleryError(
          "NOT_FOUND",
          `Image definition ${q(`${gallery}/${image}`)} has no published version for latest`,
        );
      }
      return latest;
    },
  };
  return ops;
}
