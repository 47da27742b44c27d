// An OCI image layout on disk (image-spec image-layout.md) as a content store: blobs by digest
// under blobs/ALG/HEX, written through a temporary file that is verified before it is renamed
// into place, and index.json (replaced atomically) holding tags — entries annotated with
// org.opencontainers.image.ref.name — and referrers: manifests with a subject, listed with the
// annotation dev.strata.subject naming it (as the builder writes provenance).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { MediaType, parseDigest, VerifyStream, type Digest } from "../oci/index.ts";
import { RemoteError } from "./errors.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";
export const SUBJECT_ANNOTATION = "dev.strata.subject";

/** A descriptor as index.json and manifests list it. */
export interface Entry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

export interface IndexJson {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Entry[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** `blobs/sha256/HEX` under `dir`; the digest is checked first, so no path escapes. */
export function blobPath(dir: string, digest: string): string {
  const parsed: Digest = parseDigest(digest);
  const [algorithm = "", hex = ""] = parsed.split(":");
  return join(dir, "blobs", algorithm, hex);
}

/** The layout's index.json; an empty one when the layout does not exist yet. */
export async function readIndex(dir: string): Promise<IndexJson> {
  let text: string;
  try {
    text = await readFile(join(dir, "index.json"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
    throw new RemoteError(`Cannot read OCI layout "${dir}": ${(error as Error).message}`, { cause: error });
  }
  try {
    const index = JSON.parse(text) as IndexJson;
    if (!Array.isArray(index.manifests)) throw new Error("manifests is not a list");
    return index;
  } catch (error) {
    throw new RemoteError(`Invalid OCI layout "${dir}": index.json: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Replaces index.json atomically with these entries (the oci-layout file is written too). */
export async function writeIndex(dir: string, manifests: readonly Entry[]): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const index = await readIndex(dir);
  const tmp = join(dir, `index.json.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  await writeFile(tmp, JSON.stringify({ ...index, mediaType: MediaType.ImageIndex, manifests }));
  await rename(tmp, join(dir, "index.json"));
}

/** The tags of the layout with the manifests they name, in index order. */
export async function layoutTags(dir: string): Promise<{ tag: string; entry: Entry }[]> {
  const index = await readIndex(dir);
  return index.manifests.flatMap((entry) => {
    const tag = entry.annotations?.[REF_NAME];
    return tag === undefined ? [] : [{ tag, entry }];
  });
}

/** Points `tag` at `entry` (other tags stay). */
export async function setTag(dir: string, tag: string, entry: Entry): Promise<void> {
  const index = await readIndex(dir);
  const { annotations = {}, ...rest } = entry;
  const others = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  await writeIndex(dir, [...others, { ...rest, annotations: { ...annotations, [REF_NAME]: tag } }]);
}

/** Whether the layout has the blob, whole (the size matches). */
export async function hasBlob(dir: string, descriptor: { digest: string; size: number }): Promise<boolean> {
  return (await stat(blobPath(dir, descriptor.digest)).catch(() => undefined))?.size === descriptor.size;
}

/**
 * Writes a blob from a file or bytes, verified against its digest and size while it streams;
 * nothing is visible under the digest unless it matched.
 */
export async function putBlob(
  dir: string,
  descriptor: { digest: string; size: number },
  from: { path: string } | { bytes: Buffer },
): Promise<void> {
  await writeVerified(blobPath(dir, descriptor.digest), descriptor, from);
}

/** Writes `target` from a file or bytes through a temporary file, verified, then renamed. */
export async function writeVerified(
  target: string,
  descriptor: { digest: string; size: number },
  from: { path: string } | { bytes: Buffer },
): Promise<void> {
  const dir = join(target, "..");
  await mkdir(dir, { recursive: true });
  const tmp = `${target}.${process.pid}-${randomBytes(4).toString("hex")}.part`;
  try {
    const verify = new VerifyStream({ digest: descriptor.digest as Digest, size: descriptor.size });
    if ("path" in from) await pipeline(createReadStream(from.path), verify, createWriteStream(tmp));
    else {
      const done = pipeline(verify, createWriteStream(tmp));
      verify.end(from.bytes);
      await done;
    }
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new RemoteError(`Blob ${descriptor.digest} to "${target}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}
