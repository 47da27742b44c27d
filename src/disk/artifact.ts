// The disk artifact: a VM disk stored in a registry in one of two layouts. "qcow2": a plain OCI
// image manifest with its own artifactType, the empty config and one layer — the disk in qcow2.
// "chunked" (chunked/, docs/disk-format.md): an image index over the manifest of the disk's chunk
// index and the manifests listing its chunks, so versions of a disk share their unchanged chunks.
// Either way its annotations say what the disk is (format, virtual size, boot mode, digest of the
// raw disk) and which image it was made from (`org.opencontainers.image.base.digest`, which the
// gallery's revocation cascade follows); its subject is that image's manifest when it was built
// from one. Pushed through the remote client, pulled into a file verified against its digests,
// and described from its manifest; a manifest that is not a disk artifact is refused.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import {
  digestOf,
  isDigest,
  isDiskArtifact,
  isImageManifest,
  isIndex,
  MediaType,
  parseManifest,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from "../oci/index.ts";
import { pushReferrer, pushManifest, type BytesProgress, type RegistryClient } from "../remote/index.ts";
import {
  chunkedLayout,
  EMPTY_CONFIG,
  EMPTY_DESCRIPTOR,
  type ChunkedLayout,
  type IndexLimits,
} from "./chunked/format.ts";
import { pullChunkedDisk, stagedPath } from "./chunked/pull.ts";
import type { OnProgress, TransferStats } from "./chunked/stats.ts";
import { DiskError } from "./errors.ts";
import { checkConverted, convertDisk, qemuImgInfo, type ImageFormat } from "./formats.ts";

export const DISK_ARTIFACT_TYPE = MediaType.DiskArtifact;
export const DISK_LAYER_MEDIA_TYPE = MediaType.DiskQcow2;

/** The annotations a disk artifact's manifest carries. */
export const DiskAnnotation = {
  format: "dev.strata.disk.format",
  virtualSize: "dev.strata.disk.virtual-size",
  boot: "dev.strata.disk.boot",
  rawDigest: "dev.strata.disk.raw-digest",
  baseDigest: "org.opencontainers.image.base.digest",
  created: "org.opencontainers.image.created",
  title: "org.opencontainers.image.title",
} as const;

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
const LAYER_TITLE = "disk.qcow2";
const MAX_MANIFEST = 4 * 1024 * 1024;

/** What the manifest says about a disk besides its bytes. */
export interface DiskArtifactInput {
  /** Bytes the guest sees (a whole number of MiB when built by Strata). */
  readonly virtualSize: number;
  readonly boot: "bios" | "uefi";
  /** sha256 of the raw disk bytes, when known (a build knows it; an import may not). */
  readonly rawDigest?: string;
  /** The image the disk was made from: its manifest becomes the subject. */
  readonly source?: { readonly digest: string; readonly size: number; readonly mediaType: string };
  /** Default now. */
  readonly created?: Date;
}

interface DescriptionCommon {
  /** The manifest's (or, chunked, the image index's) digest. */
  readonly digest: string;
  readonly virtualSize: number;
  readonly boot: "bios" | "uefi";
  readonly rawDigest?: string;
  /** The source image's manifest digest. */
  readonly baseDigest?: string;
  readonly created?: string;
  readonly subject?: Descriptor;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A disk artifact as it reads from its manifest: one qcow2 layer, or chunked. */
export type DiskDescription =
  | (DescriptionCommon & {
      readonly layout: "qcow2";
      readonly format: "qcow2";
      /** The qcow2 blob. */
      readonly layer: { readonly digest: string; readonly size: number };
    })
  | (DescriptionCommon & {
      readonly layout: "chunked";
      readonly format: "chunked";
      /** The manifest holding the chunk index, and the parts listing the chunks. */
      readonly chunked: ChunkedLayout;
    });

/** A chunked disk's description. */
export type ChunkedDiskDescription = Extract<DiskDescription, { layout: "chunked" }>;

/** A disk artifact ready to push: its manifest bytes and the qcow2 file it names. */
export interface DiskArtifact {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly manifest: Buffer;
  readonly disk: { readonly digest: Digest; readonly size: number; readonly path: string };
  readonly description: DiskDescription;
}

async function fileDigest(path: string): Promise<{ digest: Digest; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}` as Digest, size };
}

async function hasQcow2Magic(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(QCOW2_MAGIC);
  } finally {
    await handle.close();
  }
}

function checkDigest(value: string, what: string): string {
  if (!isDigest(value)) throw new DiskError("USAGE", `Invalid ${what} "${value}": expected sha256:<64 hex>`);
  return value;
}

/** The manifest of the disk in `path` (a qcow2 file), with what `input` says about it. */
export async function createDiskArtifact(path: string, input: DiskArtifactInput): Promise<DiskArtifact> {
  if (!Number.isSafeInteger(input.virtualSize) || input.virtualSize <= 0)
    throw new DiskError("USAGE", `Invalid virtual size ${input.virtualSize}: expected a positive byte count`);
  if (input.boot !== "bios" && input.boot !== "uefi")
    throw new DiskError("USAGE", `Invalid boot mode "${String(input.boot)}": expected bios or uefi`);
  const rawDigest = input.rawDigest === undefined ? undefined : checkDigest(input.rawDigest, "raw digest");
  const source = input.source;
  if (source !== undefined) {
    checkDigest(source.digest, "source image digest");
    if (!isImageManifest(source.mediaType) && !isIndex(source.mediaType))
      throw new DiskError(
        "USAGE",
        `Invalid source image media type "${source.mediaType}": expected an image manifest or index`,
      );
  }
  const opened = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new DiskError("USAGE", `Cannot read disk "${path}": ${error.code ?? error.message}`);
  });
  await opened.close();
  if (!(await hasQcow2Magic(path)))
    throw new DiskError("BAD_DISK", `Disk "${path}" is not a qcow2 file: a disk artifact stores qcow2`);
  const disk = await fileDigest(path);
  const annotations: Record<string, string> = {
    [DiskAnnotation.format]: "qcow2",
    [DiskAnnotation.virtualSize]: String(input.virtualSize),
    [DiskAnnotation.boot]: input.boot,
    ...(rawDigest === undefined ? {} : { [DiskAnnotation.rawDigest]: rawDigest }),
    ...(source === undefined ? {} : { [DiskAnnotation.baseDigest]: source.digest }),
    [DiskAnnotation.created]: (input.created ?? new Date()).toISOString(),
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: DISK_ARTIFACT_TYPE,
      config: EMPTY_DESCRIPTOR,
      layers: [
        {
          mediaType: DISK_LAYER_MEDIA_TYPE,
          digest: disk.digest,
          size: disk.size,
          annotations: { [DiskAnnotation.title]: LAYER_TITLE },
        },
      ],
      ...(source === undefined
        ? {}
        : { subject: { mediaType: source.mediaType, digest: source.digest, size: source.size } }),
      annotations,
    }),
  );
  return {
    digest: digestOf(manifest),
    mediaType: MediaType.ImageManifest,
    manifest,
    disk: { ...disk, path },
    description: describeDisk(manifest),
  };
}

/**
 * Reads a disk artifact's manifest (qcow2) or image index (chunked); throws DiskError("BAD_DISK")
 * for any other manifest.
 */
export function describeDisk(bytes: Uint8Array, mediaType?: string): DiskDescription {
  const digest = digestOf(bytes);
  const name = `Manifest ${digest.slice(0, 19)}…`;
  let parsed;
  try {
    parsed = parseManifest(bytes, mediaType);
  } catch (error) {
    throw new DiskError("BAD_DISK", `${name} is not a disk artifact: ${(error as Error).message}`);
  }
  function notDisk(why: string): never {
    throw new DiskError("BAD_DISK", `${name} is not a disk artifact (${DISK_ARTIFACT_TYPE}): ${why}`);
  }
  // skopeo before 1.16 (containers/image before 5.32, containers/image#2460) copies an image
  // index by rewriting it without its artifactType: an index whose own annotation says it is a
  // chunked disk is read as one (its children are checked when they are fetched).
  const chunked =
    parsed.artifactType === MediaType.DiskChunked ||
    (parsed.kind === "index" &&
      parsed.artifactType === undefined &&
      parsed.annotations?.[DiskAnnotation.format] === "chunked");
  if (parsed.kind === "index" && !chunked) notDisk("it is an image index");
  if (parsed.kind === "manifest" && chunked) notDisk("a chunked disk is an image index, not a manifest");
  if (!chunked && !isDiskArtifact(parsed.artifactType))
    notDisk(
      parsed.artifactType === undefined
        ? `it is a container image (config ${(parsed as ImageManifest).config.mediaType}): pull it with strata pull`
        : `its artifactType is "${parsed.artifactType}"`,
    );
  let stored:
    | { layout: "qcow2"; layer: { digest: string; size: number } }
    | { layout: "chunked"; chunked: ChunkedLayout };
  if (parsed.kind === "index") {
    stored = { layout: "chunked", chunked: chunkedLayout(parsed, name) };
  } else {
    const layer = parsed.layers[0];
    if (parsed.layers.length !== 1 || layer === undefined)
      notDisk(`it has ${parsed.layers.length} layers, not one`);
    if (layer.mediaType !== DISK_LAYER_MEDIA_TYPE)
      notDisk(`its layer is "${layer.mediaType}", not ${DISK_LAYER_MEDIA_TYPE}`);
    stored = { layout: "qcow2", layer: { digest: layer.digest, size: layer.size } };
  }
  const annotations = parsed.annotations ?? {};
  const format = annotations[DiskAnnotation.format];
  if (format !== stored.layout)
    notDisk(`${DiskAnnotation.format} is "${format ?? ""}", not ${stored.layout}`);
  const sizeText = annotations[DiskAnnotation.virtualSize] ?? "";
  const virtualSize = /^[1-9]\d{0,15}$/.test(sizeText) ? Number(sizeText) : NaN;
  if (!Number.isSafeInteger(virtualSize))
    notDisk(`${DiskAnnotation.virtualSize} is "${sizeText}", not a byte count`);
  const boot = annotations[DiskAnnotation.boot];
  if (boot !== "bios" && boot !== "uefi")
    notDisk(`${DiskAnnotation.boot} is "${boot ?? ""}", not bios or uefi`);
  const optionalDigest = (key: string): string | undefined => {
    const value = annotations[key];
    if (value !== undefined && !isDigest(value)) notDisk(`${key} is "${value}", not a digest`);
    return value;
  };
  const rawDigest = optionalDigest(DiskAnnotation.rawDigest);
  const baseDigest = optionalDigest(DiskAnnotation.baseDigest);
  const created = annotations[DiskAnnotation.created];
  const common = {
    digest,
    virtualSize,
    boot: boot as "bios" | "uefi",
    ...(rawDigest === undefined ? {} : { rawDigest }),
    ...(baseDigest === undefined ? {} : { baseDigest }),
    ...(created === undefined ? {} : { created }),
    ...(parsed.subject === undefined ? {} : { subject: parsed.subject }),
    annotations,
  };
  return stored.layout === "qcow2"
    ? { ...common, layout: "qcow2", format: "qcow2", layer: stored.layer }
    : { ...common, layout: "chunked", format: "chunked", chunked: stored.chunked };
}

/**
 * Pushes the disk blob, the empty config and the manifest to `repository` (under `tag`, else
 * by digest). A disk with a subject is recorded as a referrer of its image: by the registry's
 * referrers API, else in the fallback tag's index.
 */
export async function pushDisk(
  client: RegistryClient,
  repository: string,
  artifact: DiskArtifact,
  options: { tag?: string; progress?: BytesProgress } = {},
): Promise<{ digest: Digest; referrers?: "api" | "tag" }> {
  const blobs = [
    { digest: EMPTY_DESCRIPTOR.digest, size: EMPTY_DESCRIPTOR.size, bytes: EMPTY_CONFIG },
    artifact.disk,
  ];
  const manifest = { bytes: artifact.manifest, mediaType: artifact.mediaType };
  const subject = artifact.description.subject;
  if (subject === undefined) {
    await pushManifest(client, repository, options.tag ?? artifact.digest, manifest, blobs, {
      ...(options.progress === undefined ? {} : { progress: options.progress }),
    });
    return { digest: artifact.digest };
  }
  for (const blob of blobs) await client.putBlob(repository, blob, options.progress);
  const { indexed } = await pushReferrer(client, repository, subject, {
    digest: artifact.digest,
    manifest: artifact.manifest,
    mediaType: artifact.mediaType,
    artifactType: DISK_ARTIFACT_TYPE,
    blobs: [],
  });
  if (options.tag !== undefined)
    await client.putManifest(repository, options.tag, artifact.manifest, artifact.mediaType);
  return { digest: artifact.digest, referrers: indexed };
}

/** Reads the disk artifact `reference` (a tag or digest) names in `repository`. */
export async function fetchDisk(
  client: RegistryClient,
  repository: string,
  reference: string,
): Promise<DiskDescription> {
  const fetched = await client.getManifest(repository, reference, [
    MediaType.ImageManifest,
    MediaType.ImageIndex,
  ]);
  if (fetched.bytes.length > MAX_MANIFEST)
    throw new DiskError("BAD_DISK", `Manifest ${repository}:${reference} is larger than a disk artifact's`);
  return describeDisk(fetched.bytes, fetched.mediaType || undefined);
}

export interface PullDiskOptions {
  /** Bytes of the download so far (the qcow2 blob's, or the chunked disk's raw bytes). */
  readonly progress?: BytesProgress;
  /** The output's format (default qcow2): converted with qemu-img when the stored one differs. */
  readonly format?: ImageFormat;
  /** Limits on a chunked disk's index (default DEFAULT_INDEX_LIMITS). */
  readonly limits?: IndexLimits;
  /** The chunk cache folder for a chunked disk (chunked/cache.ts): chunks it holds are not fetched. */
  readonly cacheDir?: string;
  /** Chunks fetched at once (chunked). */
  readonly concurrency?: number;
  readonly onProgress?: OnProgress;
}

/**
 * Pulls the disk artifact `reference` names into `output`, in `options.format` (qcow2 unless
 * asked). A qcow2 artifact's blob is verified against its digest and size as it streams into a
 * file beside `output`; a chunked one is assembled chunk by chunk (chunked/pull.ts). Either is
 * renamed over `output` only at the end: a failed pull leaves an existing `output` as it was.
 */
export async function pullDisk(
  client: RegistryClient,
  repository: string,
  reference: string,
  output: string,
  options: PullDiskOptions = {},
): Promise<DiskDescription & { readonly transfer?: TransferStats }> {
  const description = await fetchDisk(client, repository, reference);
  const format = options.format ?? "qcow2";
  if (description.layout === "chunked") {
    const total = description.virtualSize;
    const onProgress: OnProgress | undefined =
      options.onProgress ??
      (options.progress === undefined
        ? undefined
        : (p) => {
            // Downloads of missing chunks, then the disk assembled.
            if (p.phase === "fetch" || p.phase === "chunks")
              options.progress?.(description.digest, p.done, p.total ?? total);
          });
    const { stats } = await pullChunkedDisk(client, repository, description, output, {
      format,
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(onProgress === undefined ? {} : { onProgress }),
    });
    return { ...description, transfer: stats };
  }
  const staged = stagedPath(output, "pull");
  const converted = stagedPath(output, "convert");
  try {
    await client.getBlob(
      repository,
      description.layer.digest,
      description.layer.size,
      staged,
      options.progress,
    );
    if (!(await hasQcow2Magic(staged)))
      throw new DiskError("BAD_DISK", `The disk of ${repository}@${description.digest} is not a qcow2 file`);
    if (format === "qcow2") {
      await rename(staged, output);
    } else {
      await convertDisk(staged, "qcow2", converted, format);
      await checkConverted(converted, format, (await qemuImgInfo(staged, "qcow2")).virtualSize);
      await rename(converted, output);
    }
  } finally {
    await rm(staged, { force: true });
    await rm(converted, { force: true });
  }
  return description;
}
