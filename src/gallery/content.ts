// The registry content a version pins: resolving a `--from` reference to a manifest, and
// copying a manifest with everything it needs (child manifests, blobs, referrers) into another
// repository by linking — blobs live once in the pool, so nothing is copied byte for byte.
import { isChunkedDiskRecord } from "./chunked-disk.ts";
import {
  isConfig,
  isDiskArtifact,
  isIndex,
  parseDigest,
  parseManifest,
  parseReference,
  referencedDigests,
  requiredBlobs,
  type Digest,
  type ImageIndex,
  type Manifest,
} from "../oci/index.ts";
import { withClaim, type ManifestRecord } from "../store/index.ts";
import type { GalleryContext } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import type { ImageDefinition } from "./model.ts";

export const BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest";
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_DEPTH = 8;

/** Resolves gallery references (versions, channels, latest) before the registry's tags. */
export type GalleryResolver = (repository: string, reference: string) => Promise<Digest | undefined>;

export async function resolveFrom(
  ctx: GalleryContext,
  from: string,
  resolveGallery: GalleryResolver,
  user: string | undefined,
): Promise<ManifestRecord> {
  let ref;
  try {
    ref = parseReference(from);
  } catch (error) {
    throw new GalleryError("INVALID", `Invalid --from reference ${q(from)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (ref.registry !== undefined) {
    throw new GalleryError(
      "INVALID",
      `Invalid --from reference ${q(from)}: name a repository of this registry, without the host ${q(ref.registry)}`,
    );
  }
  // A version makes its content pullable by the gallery's readers: its publisher must be
  // allowed to pull that content in the first place.
  if (!(await ctx.canPull(user, ref.repository))) {
    throw new GalleryError(
      "FORBIDDEN",
      `User ${q(user ?? "anonymous")} may not pull from ${q(ref.repository)}`,
      {
        detail: { from },
      },
    );
  }
  let record: ManifestRecord | undefined;
  if (ref.digest !== undefined) {
    record = await ctx.meta.manifests.get(ref.repository, ref.digest);
  } else {
    const tag = ref.tag ?? "latest";
    const pinned = await resolveGallery(ref.repository, tag);
    record =
      pinned !== undefined
        ? await ctx.meta.manifests.get(ref.repository, pinned)
        : await ctx.meta.manifests.resolve(ref.repository, tag);
  }
  if (record === undefined) {
    throw new GalleryError("NOT_FOUND", `Reference ${q(from)} does not name a manifest in this registry`, {
      detail: { from },
    });
  }
  return record;
}

/**
 * A definition's versions are content of its kind: a `vm` definition takes disk artifacts
 * (artifactType application/vnd.strata.disk.v1) and nothing else, a `container` definition
 * takes anything but a disk artifact.
 */
export function checkKind(definition: ImageDefinition, record: ManifestRecord): void {
  const disk = isDiskArtifact(record.artifactType) || isChunkedDiskRecord(record);
  if (definition.kind === "vm" ? disk : !disk) return;
  const name = `${definition.gallery}/${definition.name}`;
  const detail = {
    gallery: definition.gallery,
    image: definition.name,
    kind: definition.kind,
    digest: record.digest,
    ...(record.artifactType === undefined ? {} : { artifactType: record.artifactType }),
  };
  if (definition.kind === "vm")
    throw new GalleryError(
      "INVALID",
      `Image definition ${q(name)} is of kind "vm": its versions are disk artifacts, and ${q(record.digest)} is ${contentKind(record)}; make a disk with strata disk build or strata disk import`,
      { detail },
    );
  throw new GalleryError(
    "INVALID",
    `Image definition ${q(name)} is of kind "container": ${q(record.digest)} is a disk artifact, which a definition of kind "vm" takes`,
    { detail },
  );
}

function contentKind(record: ManifestRecord): string {
  if (isIndex(record.mediaType)) return "an image index";
  if (record.artifactType === undefined || isConfig(record.artifactType)) return "a container image";
  return `an artifact of type ${q(record.artifactType)}`;
}

async function readManifest(ctx: GalleryContext, record: ManifestRecord): Promise<Manifest> {
  const bytes = await ctx.blobs.read(record.digest, Math.min(record.size, MAX_MANIFEST));
  return parseManifest(bytes, record.mediaType);
}

/** The base image digest an image names in its annotations (for an index: its own or a child's). */
export async function baseDigestOf(ctx: GalleryContext, record: ManifestRecord): Promise<string | undefined> {
  const own = record.annotations?.[BASE_DIGEST_ANNOTATION];
  if (own !== undefined) return validDigest(own);
  if (!isIndex(record.mediaType)) return undefined;
  const index = (await readManifest(ctx, record)) as ImageIndex;
  for (const child of index.manifests) {
    const fromDescriptor = child.annotations?.[BASE_DIGEST_ANNOTATION];
    if (fromDescriptor !== undefined) return validDigest(fromDescriptor);
    const childRecord = await ctx.meta.manifests.get(record.repository, child.digest);
    const base = childRecord?.annotations?.[BASE_DIGEST_ANNOTATION];
    if (base !== undefined) return validDigest(base);
  }
  return undefined;
}

function validDigest(value: string): string | undefined {
  try {
    return parseDigest(value);
  } catch {
    return undefined;
  }
}

/**
 * Makes `record` (of its repository) available in `target`: links every blob, stores every
 * child manifest and the manifest itself, then does the same for its referrers (signatures,
 * SBOMs). Idempotent. Returns the number of manifests stored.
 */
export async function copyInto(ctx: GalleryContext, record: ManifestRecord, target: string): Promise<number> {
  if (record.repository === target) return 0;
  return copyManifest(ctx, record, target, 0);
}

async function copyManifest(
  ctx: GalleryContext,
  record: ManifestRecord,
  target: string,
  depth: number,
): Promise<number> {
  if (depth > MAX_DEPTH)
    throw new GalleryError("INVALID", `Manifest ${q(record.digest)} nests deeper than ${MAX_DEPTH} levels`);
  let stored = 0;
  const manifest = await readManifest(ctx, record);
  if (isIndex(record.mediaType)) {
    for (const child of (manifest as ImageIndex).manifests) {
      const childRecord = await ctx.meta.manifests.get(record.repository, child.digest);
      // A child the source repository does not hold (a partial index) is skipped, as the
      // registry accepted the index without it.
      if (childRecord !== undefined) stored += await copyManifest(ctx, childRecord, target, depth + 1);
    }
  } else {
    for (const blob of requiredBlobs(manifest as Parameters<typeof requiredBlobs>[0])) {
      // Claimed before the check, so garbage collection cannot remove it before the link is in.
      await withClaim(ctx.meta, [blob.digest], async (claim) => {
        const info =
          (await ctx.meta.blobs.get(record.repository, blob.digest)) ?? (await ctx.blobs.stat(blob.digest));
        if (info === undefined) {
          throw new GalleryError(
            "NOT_FOUND",
            `Blob ${q(blob.digest)} of manifest ${q(record.digest)} is missing`,
          );
        }
        await ctx.meta.blobs.link(target, info, { claim });
      });
    }
  }
  const references = referencedDigests(manifest);
  await withClaim(ctx.meta, [record.digest, ...references], async (claim) => {
    if ((await ctx.blobs.stat(record.digest)) === undefined) {
      throw new GalleryError("NOT_FOUND", `Manifest ${q(record.digest)} is missing from the blob pool`);
    }
    await ctx.meta.manifests.put(
      target,
      {
        digest: record.digest,
        mediaType: record.mediaType,
        size: record.size,
        references,
        ...(record.artifactType === undefined ? {} : { artifactType: record.artifactType }),
        ...(record.subject === undefined ? {} : { subject: record.subject }),
        ...(record.annotations === undefined ? {} : { annotations: record.annotations }),
      },
      undefined,
      { claim },
    );
  });
  stored += 1;
  for (const referrer of await ctx.meta.manifests.referrers(record.repository, record.digest)) {
    if ((await ctx.meta.manifests.get(target, referrer.digest)) === undefined) {
      stored += await copyManifest(ctx, referrer, target, depth + 1);
    }
  }
  return stored;
}
