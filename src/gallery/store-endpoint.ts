// A repository of the server's own store as a remote Endpoint, so what works on any place —
// signing, attaching SBOMs and changelogs, reading layers for a diff — works inside the server on
// the gallery's content, without a round trip through HTTP. Writes go where the registry's
// handlers put them: blob bytes into the pool and a link, manifest bytes into the pool and a row
// (its subject, artifact type and annotations recorded, so the referrers API lists it), all under
// a claim so garbage collection cannot take a blob before the row naming it is in.
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import {
  digestOf,
  effectiveArtifactType,
  isDigest,
  parseManifest,
  referencedDigests,
  stripParameters,
  type Digest,
} from "../oci/index.ts";
import { entryOf, type Endpoint, type Entry } from "../remote/index.ts";
import type { BlobStore, MetadataStore } from "../store/index.ts";
import { GalleryError, q } from "./errors.ts";

/** The largest manifest read whole (the registry's default manifest limit). */
const MANIFEST_MAX = 4 * 1024 * 1024;

export interface StoreParts {
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
}

/**
 * A manifest's bytes from the blob pool, checked against its digest, whichever repository holds
 * it; `owner` (a repository) is named in the message when the bytes are damaged.
 */
export async function readPoolManifest(blobs: BlobStore, digest: Digest, owner?: string): Promise<Buffer> {
  const bytes = await blobs.read(digest, MANIFEST_MAX);
  if (digestOf(bytes) !== digest)
    throw new Error(`Manifest ${digest}${owner === undefined ? "" : ` of ${owner}`} is damaged in the store`);
  return bytes;
}

/** `repository` of the store as an Endpoint named `name` in messages. */
export function storeEndpoint(store: StoreParts, repository: string): Endpoint {
  const { meta, blobs } = store;
  const name = repository;
  const readManifest = async (digest: string): Promise<Buffer> => {
    const record = isDigest(digest) ? await meta.manifests.get(repository, digest) : undefined;
    if (record === undefined)
      throw new GalleryError("NOT_FOUND", `Repository ${q(repository)} has no manifest ${q(digest)}`);
    return readPoolManifest(blobs, record.digest, repository);
  };
  const hasBlob = async (descriptor: Entry): Promise<boolean> =>
    isDigest(descriptor.digest) && (await meta.blobs.get(repository, descriptor.digest)) !== undefined;

  return {
    name,
    async resolve(reference) {
      const record = isDigest(reference)
        ? await meta.manifests.get(repository, reference)
        : await meta.manifests.resolve(repository, reference);
      if (record === undefined)
        throw new GalleryError("NOT_FOUND", `Repository ${q(repository)} has no manifest ${q(reference)}`);
      const entry = entryOf(await readManifest(record.digest), record.digest, record.mediaType);
      // The row keeps the manifest's annotations; the entry carries them too.
      return record.annotations === undefined ? entry : { ...entry, annotations: record.annotations };
    },
    readManifest,
    hasBlob,
    blobFile: async () => undefined,
    async fetchBlob(descriptor, path) {
      if (!(await hasBlob(descriptor)))
        throw new GalleryError("NOT_FOUND", `Repository ${q(repository)} lacks blob ${q(descriptor.digest)}`);
      const partial = `${path}.partial`;
      try {
        // The pool verified the bytes when they arrived; this reads them back as stored.
        await pipeline(await blobs.open(descriptor.digest as Digest), createWriteStream(partial));
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async putBlob(descriptor, from) {
      if (!isDigest(descriptor.digest))
        throw new GalleryError("INVALID", `Invalid blob digest ${q(descriptor.digest)}`);
      const digest = descriptor.digest;
      const claim = await meta.claims.take([digest]);
      try {
        const body = "bytes" in from ? from.bytes : createReadStream(from.path);
        const info = await blobs.put({ digest, size: descriptor.size }, body);
        await meta.blobs.link(repository, info, { claim });
      } finally {
        await meta.claims.release(claim);
      }
    },
    async putManifest(entry, bytes, tag) {
      const digest = digestOf(bytes);
      if (digest !== entry.digest)
        throw new GalleryError("INVALID", `Manifest bytes are ${digest}, not ${q(entry.digest)}`);
      const manifest = parseManifest(bytes, entry.mediaType);
      const references = referencedDigests(manifest);
      for (const named of references)
        if (
          (await meta.blobs.get(repository, named)) === undefined &&
          (await meta.manifests.get(repository, named)) === undefined
        )
          throw new GalleryError(
            "INVALID",
            `Manifest ${q(digest)} names ${q(named)}, which ${q(repository)} does not hold`,
          );
      const claim = await meta.claims.take([digest, ...references]);
      try {
        await blobs.put({ digest, size: bytes.length }, bytes);
        const artifactType = effectiveArtifactType(manifest);
        await meta.manifests.put(
          repository,
          {
            digest,
            mediaType: stripParameters(manifest.mediaType),
            size: bytes.length,
            references,
            ...(artifactType === undefined ? {} : { artifactType }),
            ...(manifest.subject === undefined ? {} : { subject: manifest.subject.digest }),
            ...(manifest.annotations === undefined ? {} : { annotations: manifest.annotations }),
          },
          tag,
          { claim },
        );
      } finally {
        await meta.claims.release(claim);
      }
    },
    async referrers(subject) {
      if (!isDigest(subject)) return [];
      const rows = await meta.manifests.referrers(repository, subject);
      return rows.map((row) => ({
        mediaType: row.mediaType,
        digest: row.digest,
        size: row.size,
        ...(row.artifactType === undefined ? {} : { artifactType: row.artifactType }),
        ...(row.annotations === undefined ? {} : { annotations: row.annotations }),
      }));
    },
    // The row of a manifest with a subject is what the referrers API lists: nothing more to do.
    attachReferrer: async () => "api",
  };
}
