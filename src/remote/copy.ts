// Copying an image or artifact between two endpoints (registries and OCI layouts) byte for byte,
// so digests stay: an index with every manifest it lists (or, with a platform, just that
// platform's manifest), each manifest's config and layers (only those the destination lacks),
// and the referrers of every manifest copied — signatures, SBOMs, provenance — recursively,
// recorded at the destination the way it finds referrers (its API, the fallback tag, a layout's
// index). Blobs between two registries pass through a scratch folder; a registry's blobs go
// straight into a layout.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { isIndex, parseManifest, type ImageIndex } from "../oci/index.ts";
import type { Endpoint, ReferrerIndexing } from "./endpoint.ts";
import { RemoteError } from "./errors.ts";
import { entryOf } from "./layout-endpoint.ts";
import type { Entry } from "./layout.ts";

export interface CopyOptions {
  /** The tag the copied manifest gets at the destination; by digest only when undefined. */
  readonly tag?: string;
  /** Copy only this platform's manifest of an index (an image manifest is copied as it is). */
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
  /** Copy referrers too (default true). */
  readonly referrers?: boolean;
  /** Where blobs moved between two registries are kept while they move. */
  readonly scratch: string;
  /** Called for each blob: whether the destination had it or it was copied. */
  readonly onBlob?: (digest: string, size: number, outcome: "exists" | "copied") => void;
}

export interface CopiedReferrer {
  readonly digest: string;
  readonly subject: string;
  readonly artifactType?: string;
  readonly indexed: ReferrerIndexing;
}

export interface CopyResult {
  /** The manifest copied (for a platform, the platform's manifest). */
  readonly digest: string;
  readonly mediaType: string;
  /** The copied manifest's size in bytes. */
  readonly size: number;
  readonly manifests: number;
  readonly blobs: { readonly copied: number; readonly existed: number; readonly bytesCopied: number };
  readonly referrers: readonly CopiedReferrer[];
}

/** The index entry for `platform`, or an error listing the platforms the index has. */
function platformEntry(
  index: ImageIndex,
  platform: NonNullable<CopyOptions["platform"]>,
  name: string,
): Entry {
  const found = index.manifests.find(
    (m) =>
      m.platform?.os === platform.os &&
      m.platform.architecture === platform.architecture &&
      (platform.variant === undefined || m.platform.variant === platform.variant),
  );
  if (found !== undefined) return found;
  const have = index.manifests.map((m) =>
    m.platform === undefined ? "?" : `${m.platform.os}/${m.platform.architecture}`,
  );
  const asked = `${platform.os}/${platform.architecture}${platform.variant === undefined ? "" : `/${platform.variant}`}`;
  throw new RemoteError(`${name} has no image for ${asked} (it has: ${have.join(", ") || "none"})`);
}

/** Copies what `reference` (a tag or digest) names in `source` to `target`. */
export async function copyImage(
  source: Endpoint,
  reference: string,
  target: Endpoint,
  options: CopyOptions,
): Promise<CopyResult> {
  let top = await source.resolve(reference);
  if (options.platform !== undefined && isIndex(top.mediaType)) {
    const index = parseManifest(await source.readManifest(top.digest), top.mediaType) as ImageIndex;
    top = platformEntry(index, options.platform, `${source.name}:${reference}`);
  }
  const blobs = { copied: 0, existed: 0, bytesCopied: 0 };
  const referrers: CopiedReferrer[] = [];
  const done = new Set<string>();
  let manifests = 0;

  const copyBlob = async (descriptor: Entry): Promise<void> => {
    if (await target.hasBlob(descriptor)) {
      blobs.existed += 1;
      options.onBlob?.(descriptor.digest, descriptor.size, "exists");
      return;
    }
    const local = await source.blobFile(descriptor);
    const direct = target.blobTarget?.(descriptor);
    if (local !== undefined) await target.putBlob(descriptor, { path: local });
    // Downloaded into the layout's own pool: verified and renamed into place by the download.
    else if (direct !== undefined) await source.fetchBlob(descriptor, direct);
    else {
      const staged = join(options.scratch, descriptor.digest.replace(":", "-"));
      try {
        await source.fetchBlob(descriptor, staged);
        await target.putBlob(descriptor, { path: staged });
      } finally {
        await rm(staged, { force: true });
      }
    }
    blobs.copied += 1;
    blobs.bytesCopied += descriptor.size;
    options.onBlob?.(descriptor.digest, descriptor.size, "copied");
  };

  const copyTree = async (entry: Entry, tag?: string): Promise<void> => {
    done.add(entry.digest);
    const bytes = await source.readManifest(entry.digest);
    const manifest = parseManifest(bytes, entry.mediaType);
    if (manifest.kind === "index") for (const child of manifest.manifests) await copyTree(child);
    else
      for (const blob of [manifest.config, ...manifest.layers])
        if (blob.urls === undefined || blob.urls.length === 0) await copyBlob(blob);
    await target.putManifest(entryOf(bytes, entry.digest, entry.mediaType), bytes, tag);
    manifests += 1;
    if (options.referrers === false) return;
    for (const referrer of await source.referrers(entry.digest)) {
      if (done.has(referrer.digest)) continue;
      await copyTree(referrer);
      const indexed = await target.attachReferrer(entry.digest, referrer);
      referrers.push({
        digest: referrer.digest,
        subject: entry.digest,
        ...(referrer.artifactType === undefined ? {} : { artifactType: referrer.artifactType }),
        indexed,
      });
    }
  };

  await copyTree(top, options.tag);
  return { digest: top.digest, mediaType: top.mediaType, size: top.size, manifests, blobs, referrers };
}
