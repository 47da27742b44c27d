// Small reads and writes of signature content through a remote Endpoint (a registry repository,
// an OCI layout or the local store): blobs read whole with a size cap and checked against their
// digest, artifacts stored blobs first and manifest last.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "../oci/index.ts";
import type { Endpoint } from "../remote/index.ts";
import type { SignatureArtifact } from "./artifacts.ts";
import { SignError } from "./errors.ts";

/** A blob's bytes, refused when its descriptor is larger than `limit`. */
export async function readSmallBlob(
  endpoint: Endpoint,
  descriptor: { mediaType: string; digest: string; size: number },
  limit: number,
): Promise<Buffer> {
  if (descriptor.size > limit)
    throw new SignError(
      "SIGNATURE_INVALID",
      `Blob ${descriptor.digest} is ${descriptor.size} bytes, more than the ${limit} a signature may have`,
    );
  const local = await endpoint.blobFile(descriptor);
  if (local !== undefined) {
    const bytes = await readFile(local);
    if (digestOf(bytes) !== descriptor.digest || bytes.length !== descriptor.size)
      throw new SignError("SIGNATURE_INVALID", `${endpoint.name}: blob ${descriptor.digest} is damaged`);
    return bytes;
  }
  const dir = await mkdtemp(join(tmpdir(), "strata-sign-"));
  try {
    const path = join(dir, "blob");
    await endpoint.fetchBlob(descriptor, path);
    return await readFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Stores an artifact's blobs (those missing), then its manifest, under `tag` or by digest. */
export async function storeArtifact(
  endpoint: Endpoint,
  artifact: SignatureArtifact,
  tag?: string,
): Promise<void> {
  for (const blob of artifact.blobs)
    if (!(await endpoint.hasBlob(blob))) await endpoint.putBlob(blob, { bytes: blob.bytes });
  await endpoint.putManifest(
    { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.manifest.length },
    artifact.manifest,
    tag,
  );
}

/** Whether an endpoint's error says the thing asked for does not exist. */
export function isNotFound(error: unknown): boolean {
  const status = (e: unknown): unknown => (e as { status?: unknown } | undefined)?.status;
  return status(error) === 404 || status((error as { cause?: unknown } | undefined)?.cause) === 404;
}
