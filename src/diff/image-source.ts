// Where the two images of a diff come from: a small content interface (resolve a reference, read
// a manifest, stream a blob, list referrers) that an OCI layout, the local store, a registry or
// the gallery's own store can offer; an adapter over remote/'s Endpoint; and the reading of an
// image from it — an image manifest, an index (the platform asked for), or a disk artifact, which
// stands for the image it was built from (its subject).
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  isImageManifest,
  isIndex,
  isLayer,
  MediaType,
  parseManifest,
  VerifyStream,
  type Digest,
  type ImageManifest,
  type Manifest,
} from "../oci/index.ts";
import type { Endpoint } from "../remote/index.ts";
import type { ImageConfigView } from "./config.ts";
import { DiffError } from "./errors.ts";
import type { LayerSource } from "./layer-reader.ts";

export interface ContentDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What a diff reads images from. */
export interface ContentSource {
  /** For messages: `REGISTRY/REPO`, `oci-layout:PATH`, … */
  readonly name: string;
  /** The manifest a tag or digest names. */
  resolve(reference: string): Promise<ContentDescriptor>;
  /** A manifest's bytes, checked against its digest. */
  readManifest(digest: string): Promise<Buffer>;
  /** A blob's bytes as a stream; a mismatch with the descriptor's digest or size fails it. */
  openBlob(descriptor: ContentDescriptor): Promise<Readable>;
  /** The manifests that name `digest` as their subject (none when the place cannot list them). */
  referrers?(digest: string): Promise<readonly ContentDescriptor[]>;
}

/** A ContentSource over remote/'s Endpoint: a layout's blobs read in place, a registry's fetched. */
export function sourceFromEndpoint(endpoint: Endpoint): ContentSource {
  return {
    name: endpoint.name,
    resolve: (reference) => endpoint.resolve(reference),
    readManifest: (digest) => endpoint.readManifest(digest),
    async openBlob(descriptor) {
      const verify = new VerifyStream({ digest: descriptor.digest as Digest, size: descriptor.size });
      const local = await endpoint.blobFile(descriptor);
      if (local !== undefined) return createReadStream(local, { highWaterMark: 256 * 1024 }).pipe(verify);
      // A registry's blob: fetched (verified) into a scratch file, streamed, then removed.
      const scratch = await mkdtemp(join(tmpdir(), "strata-diff-"));
      try {
        await endpoint.fetchBlob(descriptor, join(scratch, "blob"));
      } catch (error) {
        await rm(scratch, { recursive: true, force: true });
        throw error;
      }
      const stream = createReadStream(join(scratch, "blob"), { highWaterMark: 256 * 1024 });
      stream.once("close", () => void rm(scratch, { recursive: true, force: true }));
      return stream;
    },
    referrers: (digest) => endpoint.referrers(digest),
  };
}

/** An image ready to diff: its config and its layers, bottom first. */
export interface ResolvedImage {
  /** How to show it: the reference as given. */
  readonly name: string;
  readonly source: ContentSource;
  /** The image manifest's digest (for a disk: its source image's). */
  readonly digest: string;
  readonly mediaType: string;
  readonly config: ImageConfigView;
  readonly layers: readonly LayerSource[];
  /** When the reference named a disk artifact: the disk's own manifest (or index). */
  readonly disk?: { readonly digest: string; readonly mediaType: string };
}

export interface PlatformWanted {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

const CONFIG_TYPES = new Set<string>([MediaType.ImageConfig, MediaType.DockerConfig]);
const MAX_CONFIG = 16 * 1024 * 1024;
const MAX_MANIFEST = 4 * 1024 * 1024;

function notImage(name: string, why: string): never {
  throw new DiffError("NOT_AN_IMAGE", `"${name}" is not an image: ${why}`);
}

async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limit) {
      stream.destroy();
      throw new DiffError("NOT_AN_IMAGE", `${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A small blob's bytes (a config, an SBOM), verified and capped. */
export async function readSmallBlob(
  source: ContentSource,
  descriptor: ContentDescriptor,
  limit: number,
  what: string,
): Promise<Buffer> {
  if (descriptor.size > limit) throw new DiffError("NOT_AN_IMAGE", `${what} is larger than ${limit} bytes`);
  return readAll(await source.openBlob(descriptor), limit, what);
}

const isDisk = (m: Manifest): boolean =>
  m.artifactType === MediaType.DiskArtifact ||
  m.artifactType === MediaType.DiskChunked ||
  (m.kind === "index" &&
    m.artifactType === undefined &&
    m.annotations?.["dev.strata.disk.format"] === "chunked");

function hostPlatform(): PlatformWanted {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return { os: "linux", architecture: arch };
}

/** Reads the image `reference` names at `source` (for an index, the platform asked for). */
export async function resolveImage(
  source: ContentSource,
  reference: string,
  options: { readonly name?: string; readonly platform?: PlatformWanted } = {},
): Promise<ResolvedImage> {
  const name = options.name ?? reference;
  const top = await source.resolve(reference);
  let descriptor: ContentDescriptor = top;
  let disk: ResolvedImage["disk"];
  for (let depth = 0; ; depth++) {
    const bytes = await source.readManifest(descriptor.digest);
    if (bytes.length > MAX_MANIFEST) notImage(name, `its manifest is larger than ${MAX_MANIFEST} bytes`);
    let manifest: Manifest;
    try {
      manifest = parseManifest(bytes, descriptor.mediaType);
    } catch (error) {
      notImage(name, (error as Error).message);
    }
    if (isDisk(manifest)) {
      if (disk !== undefined) notImage(name, "its disk's subject is another disk");
      disk = { digest: descriptor.digest, mediaType: manifest.mediaType };
      if (manifest.subject === undefined)
        notImage(
          name,
          "it is a disk that names no source image (imported disks have none), so there is no root to compare",
        );
      descriptor = manifest.subject;
      continue;
    }
    if (manifest.kind === "index") {
      if (depth > 2) notImage(name, "its indexes nest too deeply");
      descriptor = pickPlatform(name, manifest.manifests, options.platform ?? hostPlatform());
      continue;
    }
    return readImage(source, name, descriptor.digest, manifest, disk);
  }
}

function pickPlatform(
  name: string,
  manifests: readonly (ContentDescriptor & { readonly platform?: PlatformWanted })[],
  wanted: PlatformWanted,
): ContentDescriptor {
  const images = manifests.filter((m) => isImageManifest(m.mediaType) || isIndex(m.mediaType));
  const match = images.find(
    (m) =>
      m.platform?.os === wanted.os &&
      m.platform.architecture === wanted.architecture &&
      (wanted.variant === undefined || m.platform.variant === wanted.variant),
  );
  if (match !== undefined) return match;
  if (images.length === 1 && images[0] !== undefined) return images[0];
  const listed = images.map((m) =>
    m.platform === undefined ? "unknown" : `${m.platform.os}/${m.platform.architecture}`,
  );
  return notImage(
    name,
    `its index has no ${wanted.os}/${wanted.architecture} image (it lists ${listed.join(", ") || "none"}): pass --platform`,
  );
}

async function readImage(
  source: ContentSource,
  name: string,
  digest: string,
  manifest: ImageManifest,
  disk: ResolvedImage["disk"],
): Promise<ResolvedImage> {
  if (!CONFIG_TYPES.has(manifest.config.mediaType))
    notImage(
      name,
      manifest.artifactType === undefined
        ? `its config is "${manifest.config.mediaType}", not an image config`
        : `it is an artifact of type "${manifest.artifactType}"`,
    );
  const configBytes = await readSmallBlob(source, manifest.config, MAX_CONFIG, `The config of "${name}"`);
  let config: ImageConfigView & { rootfs?: { diff_ids?: unknown } };
  try {
    config = JSON.parse(configBytes.toString("utf8")) as typeof config;
  } catch (error) {
    throw new DiffError(
      "NOT_AN_IMAGE",
      `"${name}" has a config that is not JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const diffIds = Array.isArray(config.rootfs?.diff_ids) ? (config.rootfs.diff_ids as unknown[]) : [];
  const layers = manifest.layers.map((layer, i): LayerSource => {
    if (!isLayer(layer.mediaType)) notImage(name, `layer ${i + 1} has the media type "${layer.mediaType}"`);
    const diffId = diffIds[i];
    return {
      digest: layer.digest,
      ...(typeof diffId === "string" ? { diffId } : {}),
      open: () => source.openBlob(layer),
    };
  });
  return {
    name,
    source,
    digest,
    mediaType: manifest.mediaType,
    config,
    layers,
    ...(disk === undefined ? {} : { disk }),
  };
}
