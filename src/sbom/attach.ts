// Storing SBOM referrers and finding them again, through the remote domain's Endpoint (an OCI
// layout or a registry repository). In a layout, a new SBOM of a subject replaces the earlier
// one of the same predicate type (a rebuild does not pile them up); in a registry, the referrers
// API or its fallback tag indexes it as it does every referrer.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Endpoint, ReferrerIndexing } from "../remote/index.ts";
import {
  IN_TOTO_ARTIFACT,
  PREDICATE_ANNOTATION,
  PREDICATE_TYPES,
  referrerEntry,
  type ImageDescriptor,
  type SbomFormat,
  type SbomReferrer,
} from "./attestation.ts";
import { SbomError } from "./errors.ts";

/** Largest stored SBOM statement read back (64 MiB: a large distribution image is a few MiB). */
export const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;

/** Stores the referrers' blobs and manifests at `endpoint` and makes them referrers of `image`. */
export async function attachSboms(
  endpoint: Endpoint,
  image: ImageDescriptor,
  referrers: readonly SbomReferrer[],
): Promise<ReferrerIndexing[]> {
  const indexing: ReferrerIndexing[] = [];
  for (const referrer of referrers) {
    for (const blob of referrer.blobs) {
      const descriptor = { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
      if (!(await endpoint.hasBlob(descriptor))) await endpoint.putBlob(descriptor, { bytes: blob.bytes });
    }
    const entry = referrerEntry(referrer);
    await endpoint.putManifest(entry, referrer.manifest);
    indexing.push(await endpoint.attachReferrer(image.digest, entry));
  }
  return indexing;
}

/** As `attachSboms` into the OCI layout `dir`, replacing earlier SBOMs of the same formats there. */
export async function attachSbomsToLayout(
  dir: string,
  image: ImageDescriptor,
  referrers: readonly SbomReferrer[],
): Promise<void> {
  const { createLayoutEndpoint, readIndex, writeIndex, SUBJECT_ANNOTATION } =
    await import("../remote/index.ts");
  const replaced = new Set(referrers.map((r) => r.predicateType));
  const index = await readIndex(dir);
  const kept = index.manifests.filter(
    (m) =>
      !(
        m.artifactType === IN_TOTO_ARTIFACT &&
        m.annotations?.[SUBJECT_ANNOTATION] === image.digest &&
        replaced.has(m.annotations[PREDICATE_ANNOTATION] ?? "") &&
        !referrers.some((r) => r.digest === m.digest)
      ),
  );
  if (kept.length !== index.manifests.length) await writeIndex(dir, kept);
  await attachSboms(createLayoutEndpoint(dir), image, referrers);
}

export interface StoredSbom {
  /** The referrer's manifest digest. */
  readonly referrer: string;
  readonly statement: Record<string, unknown>;
  /** The SBOM document (the statement's predicate). */
  readonly document: Record<string, unknown>;
}

interface ArtifactManifest {
  artifactType?: string;
  layers?: { digest: string; size: number; mediaType: string; annotations?: Record<string, string> }[];
  annotations?: Record<string, string>;
}

/**
 * The SBOM of `format` attached to the manifest `digest` at `endpoint`, or undefined when none
 * is. A referrer that claims to be one and is not (not JSON, too large, another subject or
 * predicate) is an error naming it.
 */
export async function findAttachedSbom(
  endpoint: Endpoint,
  digest: string,
  format: SbomFormat,
): Promise<StoredSbom | undefined> {
  const predicateType = PREDICATE_TYPES[format];
  const candidates = (await endpoint.referrers(digest)).filter((r) => r.artifactType === IN_TOTO_ARTIFACT);
  for (const candidate of candidates.sort((a, b) => (a.digest < b.digest ? -1 : 1))) {
    const where = `${endpoint.name}@${candidate.digest}`;
    let manifest: ArtifactManifest;
    try {
      manifest = JSON.parse(
        (await endpoint.readManifest(candidate.digest)).toString("utf8"),
      ) as ArtifactManifest;
    } catch (error) {
      throw new SbomError(`the referrer's manifest is not JSON`, { file: where, cause: error });
    }
    const layer = manifest.layers?.[0];
    const claimed =
      manifest.annotations?.[PREDICATE_ANNOTATION] ?? layer?.annotations?.[PREDICATE_ANNOTATION];
    // Referrers without the annotation (other tools' attestations) are read to learn what they hold.
    if (layer === undefined || (claimed !== undefined && claimed !== predicateType)) continue;
    if (layer.size > MAX_STATEMENT_BYTES)
      throw new SbomError(`its statement is ${layer.size} bytes, more than ${MAX_STATEMENT_BYTES}`, {
        file: where,
      });
    const statement = await readStatement(endpoint, layer, where);
    if (statement.predicateType !== predicateType) {
      if (claimed === undefined) continue;
      throw new SbomError(
        `its annotation says ${predicateType} but the statement holds ${String(statement.predicateType)}`,
        { file: where },
      );
    }
    const subjects = Array.isArray(statement.subject)
      ? (statement.subject as { digest?: { sha256?: string } }[])
      : [];
    if (!subjects.some((s) => `sha256:${s.digest?.sha256 ?? ""}` === digest))
      throw new SbomError(`its statement is about another subject than ${digest}`, { file: where });
    const document = statement.predicate;
    if (typeof document !== "object" || document === null || Array.isArray(document))
      throw new SbomError("its statement has no SBOM document as predicate", { file: where });
    return { referrer: candidate.digest, statement, document: document as Record<string, unknown> };
  }
  return undefined;
}

async function readStatement(
  endpoint: Endpoint,
  layer: { digest: string; size: number; mediaType: string },
  where: string,
): Promise<Record<string, unknown>> {
  let bytes: Buffer;
  try {
    const local = await endpoint.blobFile(layer);
    if (local !== undefined) bytes = await readFile(local);
    else {
      const dir = await mkdtemp(join(tmpdir(), "strata-sbom-"));
      try {
        await endpoint.fetchBlob(layer, join(dir, "statement"));
        bytes = await readFile(join(dir, "statement"));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  } catch (error) {
    throw new SbomError(`cannot read its statement: ${(error as Error).message}`, {
      file: where,
      cause: error,
    });
  }
  const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  if (actual !== layer.digest || bytes.length !== layer.size)
    throw new SbomError(
      `its statement does not match its descriptor: expected ${layer.digest}, got ${actual}`,
      {
        file: where,
      },
    );
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new SbomError(`its statement is not JSON: ${(error as Error).message}`, {
      file: where,
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new SbomError("its statement is not a JSON object", { file: where });
  return value as Record<string, unknown>;
}
