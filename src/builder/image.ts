// Images as immutable values, built by transforms: `appendLayer` adds a layer and its history
// entry, `withConfig` changes the execution config (with an empty-layer history entry), and
// `serialize` turns an image into its config and manifest bytes with their digests. Nothing is
// changed in place; every transform returns a new image.
import { createHash } from "node:crypto";
import { MediaType, type ExecutionConfig, type HistoryEntry, type ImageConfig } from "../oci/index.ts";

export interface LayerBlob {
  readonly digest: string;
  readonly diffId: string;
  readonly size: number;
  readonly mediaType: string;
  /** Where the blob's bytes are (a file), for writing the image out. */
  readonly path: string;
}

export interface Image {
  readonly config: ImageConfig;
  readonly layers: readonly LayerBlob[];
  /** The manifest digest the image was read from, when it was read (not built). */
  readonly source?: string;
  /** Manifest annotations of a built image (the base image's name and digest). */
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface SerializedImage {
  readonly config: Buffer;
  readonly configDigest: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/** An image with no layers, for `FROM scratch`. */
export function scratchImage(platform: { os: string; architecture: string; variant?: string }): Image {
  return {
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      config: {},
      rootfs: { type: "layers", diff_ids: [] },
      history: [],
    },
    layers: [],
  };
}

export function appendLayer(
  image: Image,
  layer: LayerBlob,
  history: Omit<HistoryEntry, "empty_layer">,
): Image {
  return {
    config: {
      ...image.config,
      rootfs: { type: "layers", diff_ids: [...image.config.rootfs.diff_ids, layer.diffId as never] },
      history: [...(image.config.history ?? []), history],
    },
    layers: [...image.layers, layer],
  };
}

export function withConfig(
  image: Image,
  patch: (config: ExecutionConfig) => ExecutionConfig,
  history?: Omit<HistoryEntry, "empty_layer">,
): Image {
  return {
    config: {
      ...image.config,
      config: patch(image.config.config ?? {}),
      ...(history === undefined
        ? {}
        : { history: [...(image.config.history ?? []), { ...history, empty_layer: true }] }),
    },
    layers: image.layers,
  };
}

/** Sets the image's and every history entry's creation time (reproducible builds). */
export function withCreated(image: Image, created: string): Image {
  return {
    config: {
      ...image.config,
      created,
      history: (image.config.history ?? []).map((h) => ({ ...h, created })),
    },
    layers: image.layers,
  };
}

export function serialize(image: Image, extra?: Readonly<Record<string, string>>): SerializedImage {
  const annotations = { ...image.annotations, ...extra };
  const config = Buffer.from(JSON.stringify(image.config));
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: configDigest, size: config.length },
      layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    }),
  );
  return { config, configDigest, manifest, manifestDigest: sha256(manifest) };
}
