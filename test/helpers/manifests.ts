// Minimal OCI content for HTTP tests: a small image config and a manifest naming given blobs.
import { digestOf, MediaType } from "../../src/oci/index.ts";

/** A valid image config with no layers. */
export const EMPTY_CONFIG = Buffer.from(
  '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
);

/** The bytes of an OCI image manifest with `config` and `layers` (gzip layer media type). */
export function imageManifest(
  config: Buffer,
  layers: readonly Buffer[],
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({
        mediaType: MediaType.ImageLayerGzip,
        digest: digestOf(l),
        size: l.length,
      })),
      ...extra,
    }),
  );
}
