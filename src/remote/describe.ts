// What `inspect` shows of a manifest at an endpoint: the manifest itself, the image config (for
// an image), its layers with their diff IDs, the platforms an index lists, the bytes it takes,
// and its referrers (signatures, SBOMs, provenance).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseManifest, type Manifest } from "../oci/index.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Entry } from "./layout.ts";

export interface Description {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType?: string;
  /** The manifest as stored (JSON). */
  readonly manifest: unknown;
  /** The image config (JSON), for an image manifest whose config is one. */
  readonly config?: unknown;
  readonly layers: readonly { digest: string; size: number; mediaType: string; diffId?: string }[];
  readonly platforms: readonly { digest: string; platform: string }[];
  /** Config and layers (for an index: of every image it lists) and the manifests, in bytes. */
  readonly size: number;
  readonly referrers: readonly Entry[];
}

/** A blob's bytes: read in place from a layout, else fetched through a scratch file. */
async function readBlob(endpoint: Endpoint, descriptor: Entry): Promise<Buffer> {
  const local = await endpoint.blobFile(descriptor);
  if (local !== undefined) return readFile(local);
  const scratch = await mkdtemp(join(tmpdir(), "strata-inspect-"));
  try {
    await endpoint.fetchBlob(descriptor, join(scratch, "blob"));
    return await readFile(join(scratch, "blob"));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const CONFIG_TYPES = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);

/** The bytes a manifest takes: itself and what it names (an index's images included). */
async function sizeOf(endpoint: Endpoint, manifest: Manifest, own: number): Promise<number> {
  if (manifest.kind === "manifest")
    return own + manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
  let total = own;
  for (const child of manifest.manifests) {
    const bytes = await endpoint.readManifest(child.digest).catch(() => undefined);
    if (bytes !== undefined)
      total += await sizeOf(endpoint, parseManifest(bytes, child.mediaType), bytes.length);
  }
  return total;
}

/**
 * Describes the manifest `entry` names, with its config and referrers unless left out (a listing
 * of many images needs no referrers).
 */
export async function describe(
  endpoint: Endpoint,
  entry: Entry,
  include: { readonly config?: boolean; readonly referrers?: boolean } = {},
): Promise<Description> {
  const bytes = await endpoint.readManifest(entry.digest);
  const manifest = parseManifest(bytes, entry.mediaType);
  let config: { rootfs?: { diff_ids?: string[] } } | undefined;
  if (include.config !== false && manifest.kind === "manifest" && CONFIG_TYPES.has(manifest.config.mediaType))
    config = JSON.parse((await readBlob(endpoint, manifest.config)).toString("utf8")) as typeof config;
  const diffIds = config?.rootfs?.diff_ids ?? [];
  return {
    digest: entry.digest,
    mediaType: manifest.mediaType,
    ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
    manifest: JSON.parse(bytes.toString("utf8")) as unknown,
    ...(config === undefined ? {} : { config }),
    layers:
      manifest.kind === "manifest"
        ? manifest.layers.map((l, i) => ({
            digest: l.digest,
            size: l.size,
            mediaType: l.mediaType,
            ...(diffIds[i] === undefined ? {} : { diffId: diffIds[i] }),
          }))
        : [],
    platforms:
      manifest.kind === "index"
        ? manifest.manifests.map((m) => ({
            digest: m.digest,
            platform:
              m.platform === undefined
                ? "unknown"
                : `${m.platform.os}/${m.platform.architecture}${m.platform.variant === undefined ? "" : `/${m.platform.variant}`}`,
          }))
        : [],
    size: await sizeOf(endpoint, manifest, bytes.length),
    referrers: include.referrers !== false ? await endpoint.referrers(entry.digest) : [],
  };
}
