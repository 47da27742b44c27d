// The disk artifact: a VM disk stored in a registry as a plain OCI image manifest with its own
// artifactType, the empty config and one layer — the disk in qcow2. Its annotations say what
// the disk is (format, virtual size, boot mode, digest of the raw disk) and which image it was
// made from (`org.opencontainers.image.base.digest`, which the gallery's revocation cascade
// follows); its subject is that image's manifest when it was built from one. Made from a qcow2
// file, pushed through the remote client, pulled into a file verified against its digest, and
// described from its manifest; a manifest that is not a disk artifact is refused.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
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
import { DiskError } from "./errors.ts";

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

/** The empty config every artifact without a config of its own names (image-spec). */
const EMPTY_CONFIG = Buffer.from("{}");
const EMPTY_DESCRIPTOR = {
  mediaType: MediaType.Empty,
  digest: digestOf(EMPTY_CONFIG),
  size: EMPTY_CONFIG.length,
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

/** A disk artifact as it reads from its manifest. */
export interface DiskDescription {
  /** The manifest's digest. */
  readonly digest: string;
  readonly format: "qcow2";
  readonly virtualSize: number;
  readonly boot: "bios" | "uefi";
  readonly rawDigest?: string;
  /** The source image's manifest digest. */
  readonly baseDigest?: string;
  readonly created?: string;
  readonly subject?: Descriptor;
  /** The qcow2 blob. */
  readonly layer: { readonly digest: string; readonly size: number };
  readonly annotations: Readonly<Record<string, string>>;
}

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

/** Reads a disk artifact's manifest; throws DiskError("BAD_DISK") for any other manifest. */
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
  if (parsed.kind === "index") notDisk("it is an image index");
  const manifest = parsed as ImageManifest;
  if (!isDiskArtifact(manifest.artifactType))
    notDisk(
      manifest.artifactType === undefined
        ? `it is a container image (config ${manifest.config.mediaType}): pull it with strata pull`
        : `its artifactType is "${manifest.artifactType}"`,
    );
  const layer = manifest.layers[0];
  if (manifest.layers.length !== 1 || layer === undefined)
    notDisk(`it has ${manifest.layers.length} layers, not one`);
  if (layer.mediaType !== DISK_LAYER_MEDIA_TYPE)
    notDisk(`its layer is "${layer.mediaType}", not ${DISK_LAYER_MEDIA_TYPE}`);
  const annotations = manifest.annotations ?? {};
  const format = annotations[DiskAnnotation.format];
  if (format !== "qcow2") notDisk(`${DiskAnnotation.format} is "${format ?? ""}", not qcow2`);
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
  return {
    digest,
    format: "qcow2",
    virtualSize,
    boot: boot as "bios" | "uefi",
    ...(rawDigest === undefined ? {} : { rawDigest }),
    ...(baseDigest === undefined ? {} : { baseDigest }),
    ...(created === undefined ? {} : { created }),
    ...(manifest.subject === undefined ? {} : { subject: manifest.subject }),
    layer: { digest: layer.digest, size: layer.size },
    annotations,
  };
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
  const fetched = await client.getManifest(repository, reference, [MediaType.ImageManifest]);
  if (fetched.bytes.length > MAX_MANIFEST)
    throw new DiskError("BAD_DISK", `Manifest ${repository}:${reference} is larger than a disk artifact's`);
  return describeDisk(fetched.bytes, fetched.mediaType || undefined);
}

/**
 * Pulls the disk artifact `reference` names into `output` (qcow2). The blob is verified against
 * its digest and size as it streams into a file beside `output`, which is renamed over it only
 * at the end: a failed pull leaves an existing `output` as it was.
 */
export async function pullDisk(
  client: RegistryClient,
  repository: string,
  reference: string,
  output: string,
  options: { progress?: BytesProgress } = {},
): Promise<DiskDescription> {
  const description = await fetchDisk(client, repository, reference);
  const staged = join(dirname(output), `.${basename(output)}.${randomBytes(4).toString("hex")}.pull`);
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
    await rename(staged, output);
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  }
  return description;
}
