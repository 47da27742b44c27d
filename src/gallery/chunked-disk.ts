// A chunked disk (artifactType application/vnd.strata.disk.chunked.v1, docs/vm.md) is published
// only when complete: its index blob is read within a size limit and checked, its parts must
// list every chunk the index names, and every chunk blob must be linked in the repository it is
// published from. A disk whose push broke off, or whose parts or chunks went missing since, is
// refused before anything is linked or recorded. Delta chunks are checked with the index
// (decodeIndex: their bases in the table, stored whole, inside their chunks); their base chunks
// are chunks of the table like any other, so they too must be listed and linked.
import {
  checkPartsCover,
  chunkedLayout,
  decodeIndex,
  DEFAULT_INDEX_LIMITS,
  indexBlobOf,
  type IndexLimits,
} from "../disk/chunked/format.ts";
import { isIndex, MediaType, parseManifest, type Descriptor, type Digest } from "../oci/index.ts";
import type { ManifestRecord } from "../store/index.ts";
import type { GalleryContext } from "./context.ts";
import { GalleryError, q } from "./errors.ts";

const MAX_MANIFEST = 4 * 1024 * 1024;

/**
 * A chunked disk: by its artifactType, or by its format annotation when a copier dropped the
 * artifactType (skopeo before 1.16 rewrites an image index without it; docs/disk-format.md).
 */
export function isChunkedDiskRecord(
  record: Pick<ManifestRecord, "mediaType" | "artifactType" | "annotations">,
): boolean {
  if (record.artifactType === MediaType.DiskChunked) return true;
  return (
    record.artifactType === undefined &&
    isIndex(record.mediaType) &&
    record.annotations?.["dev.strata.disk.format"] === "chunked"
  );
}

export async function checkChunkedDisk(
  ctx: GalleryContext,
  record: ManifestRecord,
  limits: IndexLimits = DEFAULT_INDEX_LIMITS,
): Promise<void> {
  if (!isChunkedDiskRecord(record)) return;
  const { repository } = record;
  const disk = `Chunked disk ${q(record.digest)} in ${q(repository)}`;
  const detail = { repository, digest: record.digest };
  const refuse = (why: string, more: Record<string, unknown> = {}): never => {
    throw new GalleryError("INVALID", `${disk} is incomplete: ${why}; push the disk again, then publish it`, {
      detail: { ...detail, ...more },
    });
  };
  const manifestOf = async (digest: Digest, what: string): Promise<Buffer> => {
    const child = await ctx.meta.manifests.get(repository, digest);
    if (child === undefined)
      return refuse(`its ${what} ${q(digest)} is missing from the repository`, { missing: digest });
    return ctx.blobs.read(digest, Math.min(child.size, MAX_MANIFEST));
  };
  try {
    const top = parseManifest(
      await ctx.blobs.read(record.digest, Math.min(record.size, MAX_MANIFEST)),
      record.mediaType,
    );
    if (top.kind !== "index") return refuse("it is not an image index");
    const layout = chunkedLayout(top, "the artifact");
    const indexBlob = indexBlobOf(
      await manifestOf(layout.indexManifest.digest, "index manifest"),
      "the artifact",
    );
    if (indexBlob.size > limits.maxIndexBytes)
      throw new GalleryError(
        "TOO_LARGE",
        `${disk}: its index blob is ${indexBlob.size} bytes, over the limit of ${limits.maxIndexBytes}`,
        { detail },
      );
    if ((await ctx.meta.blobs.get(repository, indexBlob.digest)) === undefined)
      refuse(`its index blob ${q(indexBlob.digest)} is missing from the repository`, {
        missing: indexBlob.digest,
      });
    const index = decodeIndex(await ctx.blobs.read(indexBlob.digest, limits.maxIndexBytes), limits);
    const partLayers: (readonly Descriptor[])[] = [];
    for (const part of layout.parts) {
      const manifest = parseManifest(await manifestOf(part.digest, "part manifest"), part.mediaType);
      if (manifest.kind !== "manifest") return refuse(`its part ${q(part.digest)} is not an image manifest`);
      partLayers.push(manifest.layers);
    }
    checkPartsCover(index, partLayers);
    const chunks = index.chunks.map((chunk) => chunk.digest);
    const links = await ctx.meta.blobs.getMany(repository, chunks);
    const linked = new Set<string>(links.map((link) => link.digest));
    const first = chunks.findIndex((chunk) => !linked.has(chunk));
    if (first >= 0) {
      const count = chunks.length - linked.size;
      refuse(
        `chunk ${q(chunks[first])} (${first + 1} of ${chunks.length} in its index) is missing from the repository${count > 1 ? `, and ${count - 1} more` : ""}`,
        { missing: chunks[first], missingChunks: count },
      );
    }
  } catch (error) {
    // The format's checks (DiskError) and manifests that do not parse (OciFormatError) refuse
    // the disk; anything else (a database or file system failure) is the server's.
    const name = (error as Error | undefined)?.name;
    if (name !== "DiskError" && name !== "OciFormatError") throw error;
    const code = (error as { code?: unknown }).code === "TOO_LARGE" ? "TOO_LARGE" : "INVALID";
    throw new GalleryError(code, `${disk} cannot be published: ${(error as Error).message}`, {
      detail,
      cause: error,
    });
  }
}
