// An image's SBOM as attached to it: a referrer whose artifactType is an in-toto statement
// (application/vnd.in-toto+json) or a Sigstore bundle holding one (a signed attestation), whose
// predicateType is SPDX 2.3 or CycloneDX. Other statements on the same image (provenance) are
// passed over; a malformed SBOM is an error, never silently taken for "no packages".
import type { Inventory } from "../sbom/index.ts";
import { DiffError } from "./errors.ts";
import { readSmallBlob, type ContentSource } from "./image-source.ts";
import { inventoryFromSbom, MAX_SBOM_BYTES, SBOM_PREDICATES } from "./sbom-reader.ts";
import { parseManifest } from "../oci/index.ts";

export const IN_TOTO_ARTIFACT = "application/vnd.in-toto+json";
export const SIGSTORE_BUNDLE_ARTIFACT = "application/vnd.dev.sigstore.bundle.v0.3+json";

export interface FoundSbom {
  /** The referrer's manifest digest. */
  readonly digest: string;
  readonly inventory: Inventory;
}

const CREATED = "org.opencontainers.image.created";

/** Annotations that name a referrer's predicate type (cosign's and in-toto's). */
const PREDICATE_ANNOTATIONS = ["dev.sigstore.bundle.predicateType", "in-toto.io/predicate-type"];

/** The SBOM attached to the image `digest` at `source`, when there is one. */
export async function findSbom(source: ContentSource, digest: string): Promise<FoundSbom | undefined> {
  if (source.referrers === undefined) return undefined;
  const candidates = (await source.referrers(digest)).filter(
    (r) => r.artifactType === IN_TOTO_ARTIFACT || r.artifactType === SIGSTORE_BUNDLE_ARTIFACT,
  );
  // Those that say they are SBOMs first; those that say they are something else not at all.
  // Within each, the newest first: by their created annotation, else the later attached (listings
  // keep attachment order) — an SBOM attached after the build's, by a rescan, wins.
  const declared = (r: (typeof candidates)[number]) =>
    PREDICATE_ANNOTATIONS.map((k) => r.annotations?.[k]).find((v) => v !== undefined);
  const created = (r: (typeof candidates)[number]) => r.annotations?.[CREATED] ?? "";
  const newestFirst = (list: typeof candidates) =>
    list
      .map((r, i) => ({ r, i }))
      .sort((a, b) => created(b.r).localeCompare(created(a.r)) || b.i - a.i)
      .map(({ r }) => r);
  const ordered = [
    ...newestFirst(candidates.filter((r) => SBOM_PREDICATES.includes(declared(r) ?? ""))),
    ...newestFirst(candidates.filter((r) => declared(r) === undefined)),
  ];
  for (const referrer of ordered) {
    const manifest = parseManifest(await source.readManifest(referrer.digest), referrer.mediaType);
    if (manifest.kind !== "manifest") continue;
    const layer = manifest.layers[0];
    if (layer === undefined) continue;
    const bytes = await readSmallBlob(source, layer, MAX_SBOM_BYTES, `The SBOM ${referrer.digest}`).catch(
      (error: unknown) => {
        throw new DiffError(
          "BAD_SBOM",
          `Cannot read the SBOM ${referrer.digest}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      },
    );
    if (!mentionsSbom(bytes)) continue;
    return { digest: referrer.digest, inventory: inventoryFromSbom(bytes) };
  }
  return undefined;
}

/** Whether a statement (or the envelope around it) is an SBOM rather than provenance. */
function mentionsSbom(bytes: Buffer): boolean {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    const envelope = (doc.dsseEnvelope ?? doc) as Record<string, unknown>;
    const inner =
      typeof envelope.payload === "string"
        ? (JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as Record<string, unknown>)
        : doc;
    return typeof inner.predicateType === "string" && SBOM_PREDICATES.includes(inner.predicateType);
  } catch {
    // Not JSON: let the SBOM reader say what is wrong with it.
    return true;
  }
}
