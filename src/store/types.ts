// Storage interfaces: a content-addressed blob pool (bytes) and a metadata store (rows).
// Small interfaces; optional capabilities are separate and found by type guards.
import type { Readable } from "node:stream";
import type { Digest, DigestAlgorithm } from "../oci/index.ts";

/** What a write of content states it expects. Either field may be unknown up front. */
export interface Expected {
  readonly digest?: Digest;
  readonly size?: number;
  /** Hard cap on the bytes accepted (enforced while streaming). */
  readonly maxSize?: number;
  /** Algorithm to hash with when no digest is expected (default sha256). */
  readonly algorithm?: DigestAlgorithm;
}

export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

/** The content-addressed pool. A blob is visible only once complete and verified. */
export interface BlobStore {
  stat(digest: Digest): Promise<BlobInfo | undefined>;
  /** Streams the blob (or a range of it); throws StoreError("BLOB_UNKNOWN") when absent. */
  open(digest: Digest, range?: ByteRange): Promise<Readable>;
  /** Reads a small blob whole (manifests); throws when absent or larger than maxSize. */
  read(digest: Digest, maxSize: number): Promise<Buffer>;
  /** Streams body into the pool, verifying size and digest while it arrives. */
  put(expected: Expected, body: Readable | Uint8Array): Promise<BlobInfo>;
}

/** Optional: blobs can be removed (garbage collection). */
export interface BlobDeleter {
  delete(digest: Digest): Promise<boolean>;
}

/** Optional: the pool can be listed (garbage collection, metrics). */
export interface BlobLister {
  list(): AsyncIterable<ListedBlob>;
  /** One blob with its last write time; undefined when absent. */
  listed(digest: Digest): Promise<ListedBlob | undefined>;
}

/** A blob of the pool with the time it was last written (or pushed again). */
export interface ListedBlob extends BlobInfo {
  readonly modifiedAt: Date;
}

export function canDelete(store: BlobStore): store is BlobStore & BlobDeleter {
  return typeof (store as Partial<BlobDeleter>).delete === "function";
}

export function canList(store: BlobStore): store is BlobStore & BlobLister {
  return typeof (store as Partial<BlobLister>).list === "function";
}

/** An upload in progress; its bytes live in the upload area, its row in the metadata store. */
export interface UploadSession {
  readonly id: string;
  readonly repository: string;
  /** Bytes received so far. */
  readonly offset: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Upload sessions: survive restarts, expire after a configurable time. */
export interface UploadStore {
  create(repository: string): Promise<UploadSession>;
  /** Undefined when unknown, expired or belonging to another repository. */
  get(repository: string, id: string): Promise<UploadSession | undefined>;
  /**
   * Appends body at `offset` (must equal the session's current offset, else
   * StoreError("RANGE_INVALID")). Returns the session with its new offset.
   */
  append(
    session: UploadSession,
    body: Readable | Uint8Array,
    options?: { offset?: number; maxSize?: number; length?: number },
  ): Promise<UploadSession>;
  /**
   * Appends an optional last body, verifies the whole upload against `expected.digest`, moves it
   * into the blob pool, links it to the session's repository (under a claim, so garbage
   * collection cannot remove it in between) and ends the session. On a digest mismatch the
   * session is ended too.
   */
  commit(
    session: UploadSession,
    expected: Expected & { digest: Digest },
    body?: Readable | Uint8Array,
  ): Promise<BlobInfo>;
  cancel(session: UploadSession): Promise<void>;
  /** Removes sessions not touched since `before`; returns how many. */
  expire(before: Date): Promise<number>;
}

export interface ManifestRecord {
  readonly repository: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly subject?: Digest;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Digests this manifest refers to (config, layers, child manifests). */
  readonly references: readonly Digest[];
  readonly createdAt: Date;
}

export type NewManifest = Omit<ManifestRecord, "createdAt" | "repository">;

/** A manifest naming a digest (as its config, a layer or a child manifest). */
export interface Holder {
  readonly manifest: Digest;
  readonly digest: Digest;
}

/**
 * Digests claimed by a commit in progress. Taken before the commit writes or checks their bytes
 * and ended by the write that records them (a link, a manifest), so garbage collection either
 * finished with a digest before the claim, or keeps it until its references are in.
 */
export interface Claim {
  readonly id: string;
  readonly digests: readonly Digest[];
}

/** Options of the writes that make digests referenced. */
export interface RecordOptions {
  /**
   * The claim taken before the bytes were written or checked; the write ends it in its own
   * transaction, and fails with BLOB_UNKNOWN when the claim expired and a collection removed it.
   */
  readonly claim?: Claim;
}

export interface Page {
  readonly n?: number;
  readonly last?: string;
}

/** Metadata rows. Grouped into small facets; every method is one transaction. */
export interface MetadataStore {
  readonly repositories: {
    /** Lexically ordered names after `last`, at most n. */
    list(page: Page): Promise<string[]>;
    exists(name: string): Promise<boolean>;
  };
  readonly blobs: {
    /** Records that repository holds blob (creates the repository). Idempotent. */
    link(repository: string, blob: BlobInfo, options?: RecordOptions): Promise<void>;
    get(repository: string, digest: Digest): Promise<BlobInfo | undefined>;
    unlink(repository: string, digest: Digest): Promise<boolean>;
    /** The links of repository among `digests` (any number), in no particular order. */
    getMany(repository: string, digests: readonly Digest[]): Promise<BlobInfo[]>;
    /**
     * Unlinks from repository each of `digests` that no manifest of the repository names and no
     * claim unexpired at `at` holds, checked and done under the digests' commit lock (so no
     * manifest naming one is recorded in between). Returns the digests it unlinked.
     */
    unlinkUnreferenced(repository: string, digests: readonly Digest[], at: Date): Promise<Digest[]>;
    /** Number of repositories linking the digest (0 = unreferenced). */
    linkCount(digest: Digest): Promise<number>;
  };
  readonly manifests: {
    /** Stores the manifest row (idempotent) and, when tag is given, points the tag at it. */
    put(repository: string, manifest: NewManifest, tag?: string, options?: RecordOptions): Promise<void>;
    get(repository: string, digest: Digest): Promise<ManifestRecord | undefined>;
    /** Resolves a tag to its manifest. */
    resolve(repository: string, tag: string): Promise<ManifestRecord | undefined>;
    /** Deletes the manifest and every tag pointing at it. */
    delete(repository: string, digest: Digest): Promise<boolean>;
    /**
     * Deletes each of `digests` the repository holds that no tag, no other manifest of the
     * repository and no claim unexpired at `at` names, checked and done under the digests' commit
     * lock; one named only by manifests deleted here goes too. Returns the digests it deleted.
     */
    deleteUnreferenced(repository: string, digests: readonly Digest[], at: Date): Promise<Digest[]>;
    /** Manifests whose subject is `subject`, optionally filtered by artifactType. */
    referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]>;
  };
  readonly tags: {
    list(repository: string, page: Page): Promise<string[]>;
    delete(repository: string, tag: string): Promise<boolean>;
  };
  readonly references: {
    /** Every digest a repository links or a manifest is or names: what garbage collection keeps. */
    all(): Promise<Set<string>>;
    /**
     * Which manifests name which of `digests` (any number): distinct pairs, among the manifests
     * of `repository` or, without it, of every repository.
     */
    holders(digests: readonly Digest[], repository?: string): Promise<Holder[]>;
    /**
     * Under the digest's commit lock: when no link, manifest, manifest reference or unexpired
     * claim (at `at`) names the digest, runs `remove` (which deletes the bytes, and must not use
     * this store) and, when it removed them, drops the digest's expired claims. Returns whether
     * `remove` ran and returned true.
     */
    removeIfUnreferenced(digest: Digest, at: Date, remove: () => Promise<boolean>): Promise<boolean>;
  };
  readonly claims: {
    /** Claims digests for a commit (see Claim); it expires after ttlMs (default one hour). */
    take(digests: readonly Digest[], options?: { ttlMs?: number }): Promise<Claim>;
    /** Ends a claim whose commit failed or is done; idempotent. */
    release(claim: Claim): Promise<void>;
    /** Drops claims expired before `before` (left by crashed commits); returns how many. */
    expire(before: Date): Promise<number>;
  };
  readonly uploads: {
    insert(row: UploadRow): Promise<void>;
    get(id: string): Promise<UploadRow | undefined>;
    /** Sets offset only if the stored offset equals `expectedOffset`; false otherwise. */
    advance(id: string, expectedOffset: number, newOffset: number, at: Date): Promise<boolean>;
    delete(id: string): Promise<boolean>;
    olderThan(before: Date): Promise<UploadRow[]>;
    count(): Promise<number>;
  };
  close(): Promise<void>;
}

export interface UploadRow {
  readonly id: string;
  readonly repository: string;
  readonly offset: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
