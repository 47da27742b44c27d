// The builder and registries: pushing a built image with its provenance referrer, and the layer
// cache as an OCI artifact in a registry repository — exported (each step's cache key with its
// layer's descriptor in the config, the layers as the artifact's layers) and imported (entries a
// build takes layers from, fetched once into the local cache).
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MediaType } from "../oci/index.ts";
import {
  pushManifest,
  pushReferrer,
  RemoteError,
  type BytesProgress,
  type PushEvent,
  type RegistryClient,
} from "../remote/index.ts";
import { withImportedEntries, type CacheEntry, type LayerCache } from "./engine/cache.ts";
import { BuildError } from "./errors.ts";
import { serialize, type Image, type LayerBlob } from "./image.ts";
import type { Referrer } from "./provenance.ts";

export const CACHE_ARTIFACT = "application/vnd.strata.build.cache.v1+json";
export const CACHE_CONFIG = "application/vnd.strata.build.cache.config.v1+json";

export interface PushProgress {
  readonly bytes?: BytesProgress;
  readonly blob?: PushEvent;
}

/**
 * Pushes `image` to `repository` under `tag` (by its digest when `tag` is undefined), then its
 * provenance referrer. Returns how the registry indexed the referrer.
 */
export async function pushBuiltImage(
  client: RegistryClient,
  repository: string,
  tag: string | undefined,
  image: Image,
  referrer: Referrer,
  progress: PushProgress = {},
): Promise<{ digest: string; referrers: "api" | "tag" }> {
  const serialized = serialize(image);
  await pushManifest(
    client,
    repository,
    tag ?? serialized.manifestDigest,
    { bytes: serialized.manifest, mediaType: MediaType.ImageManifest },
    [
      ...image.layers.map((l) => ({ digest: l.digest, size: l.size, path: l.path })),
      { digest: serialized.configDigest, size: serialized.config.length, bytes: serialized.config },
    ],
    {
      ...(progress.bytes === undefined ? {} : { progress: progress.bytes }),
      ...(progress.blob === undefined ? {} : { onBlob: progress.blob }),
    },
  );
  const { indexed } = await pushReferrer(client, repository, { digest: serialized.manifestDigest }, referrer);
  return { digest: serialized.manifestDigest, referrers: indexed };
}

/** Pushes the cache entries of a build's layer steps as an artifact under `tag`. */
export async function exportCache(
  client: RegistryClient,
  repository: string,
  tag: string,
  steps: readonly { readonly key: string; readonly layer: LayerBlob }[],
  progress: PushProgress = {},
): Promise<number> {
  const entries: CacheEntry[] = steps.map((s) => ({
    key: s.key,
    digest: s.layer.digest,
    diffId: s.layer.diffId,
    size: s.layer.size,
    mediaType: s.layer.mediaType,
  }));
  const config = Buffer.from(JSON.stringify({ entries }));
  const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
  const layers = [...new Map(steps.map((s) => [s.layer.digest, s.layer])).values()];
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: CACHE_ARTIFACT,
      config: { mediaType: CACHE_CONFIG, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  await pushManifest(
    client,
    repository,
    tag,
    { bytes: manifest, mediaType: MediaType.ImageManifest },
    [
      ...layers.map((l) => ({ digest: l.digest, size: l.size, path: l.path })),
      { digest: configDigest, size: config.length, bytes: config },
    ],
    progress.bytes === undefined ? {} : { progress: progress.bytes },
  );
  return entries.length;
}

const isEntry = (e: unknown): e is CacheEntry => {
  const x = e as CacheEntry;
  return (
    typeof e === "object" &&
    e !== null &&
    /^[0-9a-f]{64}$/.test(String(x.key)) &&
    /^sha256:[0-9a-f]{64}$/.test(String(x.digest)) &&
    /^sha256:[0-9a-f]{64}$/.test(String(x.diffId)) &&
    Number.isSafeInteger(x.size) &&
    x.size >= 0 &&
    typeof x.mediaType === "string"
  );
};

/**
 * Reads a cache artifact and returns `local` backed by its entries (layers fetched on a hit),
 * or undefined when the repository has no such tag yet.
 */
export async function importCache(
  client: RegistryClient,
  repository: string,
  tag: string,
  dir: string,
  local: LayerCache,
): Promise<{ cache: LayerCache; entries: number } | undefined> {
  const name = `${client.registry}/${repository}:${tag}`;
  let manifest;
  try {
    manifest = await client.getManifest(repository, tag, [MediaType.ImageManifest]);
  } catch (error) {
    if (error instanceof RemoteError && error.status === 404) return undefined;
    throw error;
  }
  const body = JSON.parse(manifest.bytes.toString("utf8")) as {
    artifactType?: string;
    config?: { digest: string; size: number };
  };
  if (body.artifactType !== CACHE_ARTIFACT || body.config === undefined)
    throw new BuildError(`${name} is not a Strata build cache (artifactType ${String(body.artifactType)})`);
  const tmp = await mkdtemp(join(tmpdir(), "strata-cache-"));
  let entries: unknown;
  try {
    await client.getBlob(repository, body.config.digest, body.config.size, join(tmp, "config"));
    entries = (JSON.parse(await readFile(join(tmp, "config"), "utf8")) as { entries?: unknown }).entries;
  } catch (error) {
    if (error instanceof RemoteError) throw error;
    throw new BuildError(`${name}: its cache config is not JSON`, { cause: error });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (!Array.isArray(entries) || !entries.every(isEntry))
    throw new BuildError(`${name}: its cache entries are malformed`);
  const cache = withImportedEntries(dir, local, entries, (entry, path) =>
    client.getBlob(repository, entry.digest, entry.size, path),
  );
  return { cache, entries: entries.length };
}
