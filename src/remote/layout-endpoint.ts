// An OCI layout as an Endpoint: tags from index.json, blobs read in place, referrers listed in
// index.json with the subject they refer to.
import { readFile } from "node:fs/promises";
import { digestOf, isDigest, parseManifest, stripParameters } from "../oci/index.ts";
import type { Endpoint } from "./endpoint.ts";
import { RemoteError } from "./errors.ts";
import {
  blobPath,
  hasBlob,
  layoutTags,
  putBlob,
  readIndex,
  REF_NAME,
  setTag,
  SUBJECT_ANNOTATION,
  writeIndex,
  writeVerified,
  type Entry,
} from "./layout.ts";

/** The manifest's own view of itself as an index entry: media type, artifact type, size. */
export function entryOf(bytes: Buffer, digest: string, mediaType?: string): Entry {
  const manifest = parseManifest(bytes, mediaType);
  return {
    mediaType: stripParameters(manifest.mediaType),
    digest,
    size: bytes.length,
    ...(manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType }),
  };
}

/** `name` is how messages call it (default `oci-layout:DIR`). */
export function createLayoutEndpoint(dir: string, name = `oci-layout:${dir}`): Endpoint {
  const readManifest = async (digest: string): Promise<Buffer> => {
    const bytes = await readFile(blobPath(dir, digest)).catch((error: unknown) => {
      throw new RemoteError(`${name} has no manifest ${digest}`, { cause: error, status: 404 });
    });
    if (digestOf(bytes) !== digest) throw new RemoteError(`${name}: manifest ${digest} is damaged`);
    return bytes;
  };
  return {
    name,
    async resolve(reference) {
      if (isDigest(reference)) return entryOf(await readManifest(reference), reference);
      const tags = await layoutTags(dir);
      const found = tags.find((t) => t.tag === reference);
      if (found === undefined)
        throw new RemoteError(
          `${name} has no tag "${reference}" (tags: ${tags.map((t) => t.tag).join(", ") || "none"})`,
          { status: 404 },
        );
      const { annotations: _tag, ...entry } = found.entry;
      return entry;
    },
    readManifest,
    hasBlob: (descriptor) => hasBlob(dir, descriptor),
    async blobFile(descriptor) {
      if (!(await hasBlob(dir, descriptor)))
        throw new RemoteError(`${name} lacks blob ${descriptor.digest}`, { status: 404 });
      return blobPath(dir, descriptor.digest);
    },
    async fetchBlob(descriptor, path) {
      await writeVerified(path, descriptor, { path: blobPath(dir, descriptor.digest) });
    },
    putBlob: (descriptor, from) => putBlob(dir, descriptor, from),
    blobTarget: (descriptor) => blobPath(dir, descriptor.digest),
    async putManifest(entry, bytes, tag) {
      if (!(await hasBlob(dir, entry))) await putBlob(dir, entry, { bytes });
      if (tag !== undefined) await setTag(dir, tag, entry);
    },
    async referrers(subject) {
      const index = await readIndex(dir);
      const out: Entry[] = [];
      for (const entry of index.manifests) {
        if (entry.annotations?.[REF_NAME] !== undefined) continue;
        const named = entry.annotations?.[SUBJECT_ANNOTATION];
        if (named === subject) out.push(entry);
        else if (named === undefined) {
          // Listed by another tool without the annotation: the manifest names its subject.
          const bytes = await readFile(blobPath(dir, entry.digest)).catch(() => undefined);
          const manifest =
            bytes === undefined
              ? undefined
              : (() => {
                  try {
                    return parseManifest(bytes);
                  } catch {
                    return undefined;
                  }
                })();
          if (manifest?.subject?.digest === subject) out.push(entry);
        }
      }
      return out;
    },
    async attachReferrer(subject, referrer) {
      const index = await readIndex(dir);
      const others = index.manifests.filter(
        (m) => !(m.digest === referrer.digest && m.annotations?.[REF_NAME] === undefined),
      );
      const { annotations = {}, ...rest } = referrer;
      await writeIndex(dir, [
        ...others,
        { ...rest, annotations: { ...annotations, [SUBJECT_ANNOTATION]: subject } },
      ]);
      return "layout";
    },
  };
}
