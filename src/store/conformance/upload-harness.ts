// Builds an UploadStoreHarness over a temporary data directory and a metadata database given by
// URL, so the upload suite runs the same way over SQLite and PostgreSQL.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createFsBlobStore } from "../fs-blob-store.ts";
import { createMetadataStore } from "../metadata/create-metadata-store.ts";
import type { MetadataStore } from "../types.ts";
import { createUploadStore } from "../upload-store.ts";
import type { UploadStoreHarness } from "./describe-upload-store.ts";

export async function uploadHarness(
  root: string,
  url: string,
  options: { clock?: () => Date; dispose?: () => Promise<void> } = {},
): Promise<UploadStoreHarness> {
  const blobs = createFsBlobStore({ root });
  const meta = await createMetadataStore(url);
  const opened: MetadataStore[] = [meta];
  const files = async (dir: string): Promise<string[]> =>
    (await readdir(join(root, dir)).catch(() => [] as string[])).map((name) => `${dir}/${name}`);
  return {
    uploads: createUploadStore({
      root,
      blobs,
      meta,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    }),
    blobs,
    meta,
    root,
    async restart() {
      const next = await createMetadataStore(url);
      opened.push(next);
      return createUploadStore({ root, blobs, meta: next });
    },
    async leftovers() {
      const rows = await meta.uploads.count();
      return [
        ...(await files("uploads")),
        ...(await files("tmp")),
        ...(rows === 0 ? [] : [`${rows} session rows`]),
      ];
    },
    async close() {
      for (const store of opened) await store.close();
      await options.dispose?.();
      await rm(root, { recursive: true, force: true });
    },
  };
}
