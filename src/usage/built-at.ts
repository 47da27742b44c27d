// When a version was built: the `created` time of its image config when it has one (an image
// manifest whose config says when it was made), else when it was published (indexes, disks,
// configs without a date or with one in the future).
import { isImageManifest, type Digest } from "../oci/index.ts";
import type { GalleryAccess, VersionsTable } from "../gallery/index.ts";

const MANIFEST_MAX = 4 * 1024 * 1024;
const CONFIG_MAX = 4 * 1024 * 1024;

export interface BuiltAt {
  readonly at: number;
  readonly from: "config" | "published";
}

export async function builtAt(access: GalleryAccess, row: VersionsTable): Promise<BuiltAt> {
  const published: BuiltAt = { at: Number(row.created_at), from: "published" };
  if (!isImageManifest(row.media_type)) return published;
  try {
    const manifest = JSON.parse(
      (await access.blobs.read(row.digest as Digest, MANIFEST_MAX)).toString("utf8"),
    ) as { config?: { digest?: string } };
    const config = manifest.config?.digest;
    if (typeof config !== "string") return published;
    const created = (
      JSON.parse((await access.blobs.read(config as Digest, CONFIG_MAX)).toString("utf8")) as {
        created?: unknown;
      }
    ).created;
    const at = typeof created === "string" ? Date.parse(created) : Number.NaN;
    // A reproducible build's epoch (1970) or a date after publication says nothing of the build.
    if (!Number.isFinite(at) || at <= 0 || at > published.at) return published;
    return { at, from: "config" };
  } catch {
    // Content that cannot be read or parsed here: the publication time stands in.
    return published;
  }
}
