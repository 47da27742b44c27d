// Images and artifacts between a registry and local files: pulling an image (an index resolved
// to the wanted platform) with its blobs downloaded into a local pool by digest, pushing an
// image's blobs and manifest, and pushing an artifact that refers to an image (a referrer).
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  isImageManifest,
  isIndex,
  MediaType,
  parseImageConfig,
  parseManifest,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Reference,
} from "../oci/index.ts";
import type { BytesProgress, RegistryClient } from "./client.ts";
import { RemoteError } from "./errors.ts";
import { addToFallbackTag } from "./referrers.ts";

const ACCEPT = [
  MediaType.ImageManifest,
  MediaType.ImageIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

export interface LocalBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** Where the bytes are. */
  readonly path: string;
}

export interface PulledImage {
  readonly manifestDigest: string;
  readonly manifest: Buffer;
  readonly config: ImageConfig;
  readonly layers: readonly LocalBlob[];
}

/** `sha256:abc` → POOL/sha256/abc. */
export const poolPath = (pool: string, digest: string): string => {
  const [algorithm = "", hex = ""] = digest.split(":");
  return join(pool, algorithm, hex);
};

/** The tag or digest a reference names (a digest wins; `latest` when neither). */
export const referenceTarget = (ref: Reference): string => ref.digest ?? ref.tag ?? "latest";

async function ensureBlob(
  client: RegistryClient,
  repository: string,
  pool: string,
  descriptor: { digest: string; size: number },
  progress?: BytesProgress,
): Promise<string> {
  const path = poolPath(pool, descriptor.digest);
  if ((await stat(path).catch(() => undefined))?.size === descriptor.size) return path;
  await client.getBlob(repository, descriptor.digest, descriptor.size, path, progress);
  return path;
}

/**
 * Pulls `repository:target` for `platform`: the manifest (an index is resolved to the entry for
 * the platform), the config, and each layer into `pool` unless it is there already.
 */
export async function pullImage(
  client: RegistryClient,
  repository: string,
  target: string,
  options: { pool: string; platform: { os: string; architecture: string }; progress?: BytesProgress },
): Promise<PulledImage> {
  const name = `${client.registry}/${repository}:${target}`;
  let fetched = await client.getManifest(repository, target, ACCEPT);
  let manifest = parseManifest(fetched.bytes, fetched.mediaType || undefined);
  if (isIndex(manifest.mediaType) || manifest.kind === "index") {
    const index = manifest as ImageIndex;
    const { os, architecture } = options.platform;
    const entry = index.manifests.find(
      (m) =>
        m.platform?.os === os && m.platform.architecture === architecture && isImageManifest(m.mediaType),
    );
    if (entry === undefined) {
      const have = index.manifests
        .map((m) => (m.platform === undefined ? "?" : `${m.platform.os}/${m.platform.architecture}`))
        .join(", ");
      throw new RemoteError(`${name} has no image for ${os}/${architecture} (it has: ${have || "none"})`);
    }
    fetched = await client.getManifest(repository, entry.digest, ACCEPT);
    manifest = parseManifest(fetched.bytes, fetched.mediaType || undefined);
  }
  if (manifest.kind !== "manifest" || !isImageManifest(manifest.mediaType))
    throw new RemoteError(`${name} is not an image (media type ${manifest.mediaType})`);
  const image = manifest as ImageManifest;
  const configPath = await ensureBlob(client, repository, options.pool, image.config);
  const config = parseImageConfig(await readFile(configPath));
  if (config.rootfs.diff_ids.length !== image.layers.length)
    throw new RemoteError(
      `${name}: ${image.layers.length} layers but ${config.rootfs.diff_ids.length} diff IDs in its config`,
    );
  const layers: LocalBlob[] = [];
  for (const layer of image.layers) {
    const path = await ensureBlob(client, repository, options.pool, layer, options.progress);
    layers.push({ digest: layer.digest, size: layer.size, mediaType: layer.mediaType, path });
  }
  return { manifestDigest: fetched.digest, manifest: fetched.bytes, config, layers };
}

export interface PushBlob {
  readonly digest: string;
  readonly size: number;
  readonly path?: string;
  readonly bytes?: Buffer;
}

/** What a push did with each blob. */
export type PushEvent = (digest: string, size: number, outcome: "exists" | "pushed") => void;

/**
 * Pushes blobs (skipping those the repository has), then the manifest under `reference` (a tag,
 * or the manifest's digest for an untagged manifest).
 */
export async function pushManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  manifest: { bytes: Buffer; mediaType: string },
  blobs: readonly PushBlob[],
  options: { progress?: BytesProgress; onBlob?: PushEvent } = {},
): Promise<void> {
  for (const blob of blobs) {
    const sent = await client.putBlob(repository, blob, options.progress);
    options.onBlob?.(blob.digest, blob.size, sent ? "pushed" : "exists");
  }
  await client.putManifest(repository, reference, manifest.bytes, manifest.mediaType);
}

export interface ReferrerPush {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly artifactType: string;
  readonly blobs: readonly PushBlob[];
}

/**
 * Pushes an artifact that names `subject` (its manifest carries the subject field). A registry
 * without the referrers API (no OCI-Subject header in its answer) gets the fallback the
 * distribution spec describes: the tag `sha256-<subject hex>` holds an index of the referrers,
 * updated here (referrers.ts).
 */
export async function pushReferrer(
  client: RegistryClient,
  repository: string,
  subject: { digest: string },
  referrer: ReferrerPush,
): Promise<{ indexed: "api" | "tag" }> {
  for (const blob of referrer.blobs) await client.putBlob(repository, blob);
  const headers = await client.putManifest(
    repository,
    referrer.digest,
    referrer.manifest,
    referrer.mediaType,
  );
  if (headers.get("oci-subject") !== null) return { indexed: "api" };
  await addToFallbackTag(client, repository, subject.digest, {
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.manifest.length,
    artifactType: referrer.artifactType,
  });
  return { indexed: "tag" };
}
