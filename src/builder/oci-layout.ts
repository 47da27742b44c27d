// OCI image layouts on disk (image-spec image-layout.md): writing an image under a tag (blobs
// copied in by digest, index.json updated so other tags stay), and reading a tagged image back
// (for `FROM oci-layout:PATH:TAG`), checking every blob it names is there.
import { copyFile, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  isImageManifest,
  MediaType,
  parseDigest,
  parseImageConfig,
  parseManifest,
  type ImageManifest,
} from "../oci/index.ts";
import { BuildError } from "./errors.ts";
import { serialize, type Image } from "./image.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";

interface IndexJson {
  schemaVersion: 2;
  mediaType?: string;
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

const blobPath = (dir: string, digest: string): string => {
  const parsed = parseDigest(digest);
  const [algorithm, hex] = parsed.split(":") as [string, string];
  return join(dir, "blobs", algorithm, hex);
};

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readIndex(dir: string): Promise<IndexJson> {
  try {
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as IndexJson;
    if (!Array.isArray(index.manifests)) throw new Error("manifests is not a list");
    return index;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
    throw new BuildError(`invalid OCI layout "${dir}": index.json: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Writes `image` into the layout at `dir` under `tag`; returns the manifest digest. */
export async function writeImageToLayout(dir: string, image: Image, tag: string): Promise<string> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const serialized = serialize(image);
  for (const layer of image.layers) {
    const target = blobPath(dir, layer.digest);
    if (!(await exists(target))) {
      await copyFile(layer.path, `${target}.tmp`);
      await rename(`${target}.tmp`, target);
    }
  }
  await writeFile(blobPath(dir, serialized.configDigest), serialized.config);
  await writeFile(blobPath(dir, serialized.manifestDigest), serialized.manifest);
  await tagInLayout(dir, tag, {
    mediaType: MediaType.ImageManifest,
    digest: serialized.manifestDigest,
    size: serialized.manifest.length,
  });
  return serialized.manifestDigest;
}

/**
 * Points `tag` in the layout at `dir` at a manifest whose blob is already there (other tags
 * stay); index.json is replaced atomically.
 */
export async function tagInLayout(
  dir: string,
  tag: string,
  manifest: { mediaType: string; digest: string; size: number },
): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const index = await readIndex(dir);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...manifest, annotations: { [REF_NAME]: tag } });
  const tmp = join(dir, `index.json.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify({ ...index, mediaType: MediaType.ImageIndex }));
  await rename(tmp, join(dir, "index.json"));
}

/** The tags of the layout at `dir` with their manifest digests. */
export async function layoutTags(dir: string): Promise<{ tag: string; digest: string }[]> {
  const index = await readIndex(dir);
  return index.manifests.flatMap((m) => {
    const tag = m.annotations?.[REF_NAME];
    return tag === undefined ? [] : [{ tag, digest: m.digest }];
  });
}

/** Reads the image tagged `tag` from the layout at `dir`. */
export async function readImageFromLayout(dir: string, tag: string): Promise<Image> {
  if (!(await exists(join(dir, "oci-layout"))))
    throw new BuildError(`"${dir}" is not an OCI layout (no oci-layout file)`);
  const index = await readIndex(dir);
  const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (entry === undefined) {
    const tags = index.manifests.map((m) => m.annotations?.[REF_NAME]).filter((t) => t !== undefined);
    throw new BuildError(`OCI layout "${dir}" has no tag "${tag}" (tags: ${tags.join(", ") || "none"})`);
  }
  const manifestBytes = await readFile(blobPath(dir, entry.digest)).catch((error: unknown) => {
    throw new BuildError(`OCI layout "${dir}": manifest ${entry.digest} is missing`, { cause: error });
  });
  const manifest = parseManifest(manifestBytes);
  if (!isImageManifest(manifest.mediaType)) {
    throw new BuildError(`OCI layout "${dir}" tag "${tag}" is an index; name a single-platform image`);
  }
  const image = manifest as ImageManifest;
  const config = parseImageConfig(await readFile(blobPath(dir, image.config.digest)));
  if (config.rootfs.diff_ids.length !== image.layers.length) {
    throw new BuildError(
      `OCI layout "${dir}" tag "${tag}": ${image.layers.length} layers but ${config.rootfs.diff_ids.length} diff IDs`,
    );
  }
  const layers = [];
  for (const [i, layer] of image.layers.entries()) {
    const path = blobPath(dir, layer.digest);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || info.size !== layer.size) {
      throw new BuildError(`OCI layout "${dir}": layer ${layer.digest} is missing or has the wrong size`);
    }
    layers.push({
      digest: layer.digest,
      diffId: config.rootfs.diff_ids[i] ?? "",
      size: layer.size,
      mediaType: layer.mediaType,
      path,
    });
  }
  return { config, layers, source: entry.digest };
}
