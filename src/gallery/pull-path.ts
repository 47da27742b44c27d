// The gallery's part in serving content: references resolved at request time, pulls warned or
// refused by lifecycle state and enforcement mode, version tags immutable, and content a
// version pins protected from deletion. The server passes these to the registry as its hooks.
import type { Digest } from "../oci/index.ts";
import type { GalleryContext } from "./context.ts";
import { pullVerdict, type PullVerdict } from "./lifecycle.ts";
import { LATEST, type EnforcementMode, type ImageVersion } from "./model.ts";
import {
  galleryRepo as lookupRepo,
  latestVersion,
  resolveVersion,
  versionRow,
  versionRows,
  type GalleryRepo,
} from "./resolve.ts";
import { toVersion } from "./rows.ts";
import { isVersionNumber } from "./semver.ts";

export interface PullPath {
  resolveReference(repository: string, reference: string): Promise<Digest | undefined>;
  checkPull(
    repository: string,
    reference: string,
    digest: Digest,
    user?: string,
    manifest?: { readonly artifactType?: string; readonly subject?: string },
  ): Promise<PullVerdict>;
  checkTagPush(repository: string, tag: string, digest: Digest): Promise<string | undefined>;
  checkDelete(repository: string, reference: string): Promise<string | undefined>;
  checkBlobDelete(repository: string, digest: Digest): Promise<string | undefined>;
  /** Registry actions a member's role grants on the repositories of a gallery. */
  grants(user: string | undefined, repository: string): Promise<readonly ("pull" | "push" | "delete")[]>;
}

const ROLE_GRANTS: Record<string, readonly ("pull" | "push" | "delete")[]> = {
  reader: ["pull"],
  publisher: ["pull", "push"],
  approver: ["pull", "push"],
  admin: ["pull", "push", "delete"],
};

/** Most permissive first: a digest pinned by several versions is judged by the best of them. */
const RANK: Record<ImageVersion["state"], number> = {
  published: 0,
  deprecated: 1,
  "end-of-life": 2,
  revoked: 3,
  deleted: 4,
};

/** How long the pull path trusts what it read about a repository (changes by other servers). */
const REPO_CACHE_MS = 1000;
const REPO_CACHE_MAX = 10_000;

export function createPullPath(ctx: GalleryContext): PullPath {
  // Every manifest request asks whether its repository belongs to a gallery; the answer is
  // cached briefly, and dropped at once when this server changes gallery state.
  const cache = new Map<string, { at: number; generation: number; repo: GalleryRepo | undefined }>();
  async function galleryRepo(_db: unknown, repository: string): Promise<GalleryRepo | undefined> {
    const now = Date.now();
    const hit = cache.get(repository);
    if (hit !== undefined && hit.generation === ctx.generation.value && now - hit.at < REPO_CACHE_MS)
      return hit.repo;
    const repo = await lookupRepo(ctx.db, repository);
    if (cache.size >= REPO_CACHE_MAX) cache.clear();
    cache.set(repository, { at: now, generation: ctx.generation.value, repo });
    return repo;
  }

  return {
    async grants(user, repository) {
      const slash = repository.indexOf("/");
      if (user === undefined || slash < 0) return [];
      const row = await ctx.db
        .selectFrom("gallery_members")
        .select("role")
        .where("gallery", "=", repository.slice(0, slash))
        .where("user_name", "=", user)
        .executeTakeFirst();
      return row === undefined ? [] : (ROLE_GRANTS[row.role] ?? []);
    },

    async resolveReference(repository, reference) {
      const repo = await galleryRepo(ctx.db, repository);
      if (repo === undefined) return undefined;
      return (await resolveVersion(ctx, ctx.db, repo, reference))?.digest as Digest | undefined;
    },

    async checkPull(repository, reference, digest) {
      const repo = await galleryRepo(ctx.db, repository);
      if (repo === undefined) return {};
      const now = ctx.now();
      const named = reference.includes(":") ? undefined : await resolveVersion(ctx, ctx.db, repo, reference);
      let version: ImageVersion | undefined = named?.digest === digest ? named : undefined;
      if (version === undefined) {
        // By digest (or a plain tag): judged by the versions that pin that digest, if any.
        const pinning = await ctx.db
          .selectFrom("gallery_versions")
          .selectAll()
          .where("gallery", "=", repo.gallery)
          .where("image", "=", repo.image)
          .where("digest", "=", digest)
          .execute();
        version = pinning
          .map((r) => toVersion(r, now, repo.restoreDays))
          .sort((a, b) => RANK[a.state] - RANK[b.state])[0];
      }
      if (version === undefined) return {};
      const mode = repo.mode as EnforcementMode;
      const verdict = pullVerdict(mode, version, undefined);
      if (verdict.deny === undefined && verdict.warnings === undefined) return verdict;
      // Only a warned or refused pull names what to use instead.
      const latest = await latestVersion(ctx, ctx.db, repo);
      return pullVerdict(
        mode,
        version,
        latest !== undefined && latest.version !== version.version ? latest.version : undefined,
      );
    },

    async checkTagPush(repository, tag, digest) {
      const repo = await galleryRepo(ctx.db, repository);
      if (repo === undefined) return undefined;
      if (tag === LATEST) {
        return `Tag "latest" of gallery repository ${repository} is computed by the gallery and cannot be pushed`;
      }
      if (isVersionNumber(tag)) {
        const pinned = await versionRow(ctx.db, repo.gallery, repo.image, tag);
        if (pinned !== undefined && pinned.digest !== digest) {
          return `Version ${repository}:${tag} is immutable: it pins ${pinned.digest}; publish a new version instead`;
        }
        return undefined;
      }
      const channel = await ctx.db
        .selectFrom("gallery_channels")
        .select("name")
        .where("gallery", "=", repo.gallery)
        .where("image", "=", repo.image)
        .where("name", "=", tag)
        .executeTakeFirst();
      if (channel !== undefined) {
        return `Tag "${tag}" of ${repository} is a gallery channel; move it with "strata channel set"`;
      }
      return undefined;
    },

    async checkDelete(repository, reference) {
      const repo = await galleryRepo(ctx.db, repository);
      if (repo === undefined) return undefined;
      // A tag is judged by one row; only a digest needs every version's content.
      if (!reference.includes(":")) {
        const byTag = await versionRow(ctx.db, repo.gallery, repo.image, reference);
        return byTag === undefined
          ? undefined
          : `${repository}:${byTag.version} is a gallery version; delete the version through the gallery`;
      }
      const rows = await versionRows(ctx.db, repo.gallery, repo.image);
      if (!(await pinnedDigests(repository, rows)).has(reference)) return undefined;
      return `${repository}@${reference.slice(0, 19)}… is content a gallery version pins; delete the version through the gallery`;
    },

    async checkBlobDelete(repository, digest) {
      const repo = await galleryRepo(ctx.db, repository);
      if (repo === undefined) return undefined;
      const rows = await versionRows(ctx.db, repo.gallery, repo.image);
      if (!(await pinnedDigests(repository, rows)).has(digest)) return undefined;
      return `Blob ${digest.slice(0, 19)}… of ${repository} belongs to a gallery version; delete the version through the gallery`;
    },
  };

  /** Every digest the versions of a repository need: manifests, child manifests, blobs. */
  async function pinnedDigests(
    repository: string,
    rows: readonly { digest: string }[],
  ): Promise<Set<string>> {
    const pinned = new Set<string>();
    const queue = rows.map((r) => r.digest);
    while (queue.length > 0) {
      const digest = queue.pop();
      if (digest === undefined || pinned.has(digest)) continue;
      pinned.add(digest);
      const record = await ctx.meta.manifests.get(repository, digest as Digest);
      if (record !== undefined) queue.push(...record.references);
    }
    return pinned;
  }
}
