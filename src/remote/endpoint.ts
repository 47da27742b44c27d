// Where content is copied from and to: a registry repository or an OCI layout, behind one small
// interface, so a copy (copy.ts) moves manifests, blobs and referrers the same way between any
// two of them.
import type { Entry } from "./layout.ts";

/** How a referrer was recorded: the registry's referrers API, its fallback tag, or a layout's index. */
export type ReferrerIndexing = "api" | "tag" | "layout";

export interface Endpoint {
  /** For messages: `REGISTRY/REPO` or `oci-layout:PATH`. */
  readonly name: string;
  /** The manifest a tag or digest names. */
  resolve(reference: string): Promise<Entry>;
  /** A manifest's bytes, checked against its digest. */
  readManifest(digest: string): Promise<Buffer>;
  hasBlob(descriptor: Entry): Promise<boolean>;
  /** A local file holding the blob (a layout's own), or undefined when it must be fetched. */
  blobFile(descriptor: Entry): Promise<string | undefined>;
  /** Downloads a blob into `path`, verified. */
  fetchBlob(descriptor: Entry, path: string): Promise<void>;
  putBlob(descriptor: Entry, from: { path: string } | { bytes: Buffer }): Promise<void>;
  /**
   * Where a blob may be downloaded straight into (a layout's own path), when the download is
   * verified and renamed into place as it is by `fetchBlob`; undefined when it cannot.
   */
  blobTarget?(descriptor: Entry): string;
  /** Stores a manifest under `tag`, or by its digest only. */
  putManifest(entry: Entry, bytes: Buffer, tag?: string): Promise<void>;
  /** The referrers of a manifest. */
  referrers(subject: string): Promise<Entry[]>;
  /** Makes a stored manifest findable as a referrer of `subject`. */
  attachReferrer(subject: string, referrer: Entry): Promise<ReferrerIndexing>;
}
