// SBOMs as in-toto attestations attached to the image they describe: an in-toto Statement v1
// whose subject is the image manifest digest, whose predicateType names the format
// (https://spdx.dev/Document/v2.3, https://cyclonedx.org/bom/v1.6) and whose predicate is the
// document. It is stored as an OCI referrer the way the builder stores provenance: an image
// manifest with artifactType application/vnd.in-toto+json, the empty config, one layer holding
// the statement, `subject` the image, and the annotation `in-toto.io/predicate-type` (on the
// manifest, its layer and a layout's index entry) saying which predicate it carries.
//
// Signing hook: `statementBytes(statement)` — the statement layer's exact bytes — is what a
// signer signs (as a DSSE payload of type application/vnd.in-toto+json); the referrer's digest
// is what a signature referrer would name as its subject.
import { createHash } from "node:crypto";
import { MediaType } from "../oci/index.ts";
import type { Entry } from "../remote/index.ts";
import { cyclonedxDocument, CYCLONEDX_PREDICATE } from "./cyclonedx.ts";
import type { Inventory } from "./model.ts";
import { spdxDocument, SPDX_PREDICATE } from "./spdx.ts";
import { documentTime, type SbomSubject } from "./subject.ts";

export const IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1";
export const IN_TOTO_ARTIFACT = "application/vnd.in-toto+json";
export const PREDICATE_ANNOTATION = "in-toto.io/predicate-type";

export type SbomFormat = "spdx" | "cyclonedx";
export const SBOM_FORMATS: readonly SbomFormat[] = ["spdx", "cyclonedx"];
export const PREDICATE_TYPES: Readonly<Record<SbomFormat, string>> = {
  spdx: SPDX_PREDICATE,
  cyclonedx: CYCLONEDX_PREDICATE,
};

/** The SBOM document of `format` as a JSON value. */
export function sbomDocument(
  format: SbomFormat,
  inventory: Inventory,
  subject: SbomSubject,
): Record<string, unknown> {
  return format === "spdx" ? spdxDocument(inventory, subject) : cyclonedxDocument(inventory, subject);
}

export function sbomStatement(
  format: SbomFormat,
  inventory: Inventory,
  subject: SbomSubject,
): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT,
    subject: [{ name: subject.name, digest: { sha256: subject.digest.replace(/^sha256:/, "") } }],
    predicateType: PREDICATE_TYPES[format],
    predicate: sbomDocument(format, inventory, subject),
  };
}

/** The statement's bytes as stored (and as a signer signs them). */
export const statementBytes = (statement: Record<string, unknown>): Buffer =>
  Buffer.from(JSON.stringify(statement));

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

export interface SbomBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/** A referrer as bytes: its manifest and the blobs it names (push them first). */
export interface SbomReferrer {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly artifactType: string;
  readonly predicateType: string;
  readonly blobs: readonly SbomBlob[];
}

export interface ImageDescriptor {
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string;
}

/** The statement as an OCI referrer of `subject`; `created` is the manifest's created annotation. */
export function sbomReferrer(
  subject: ImageDescriptor,
  statement: Record<string, unknown>,
  created: SbomSubject,
): SbomReferrer {
  const predicateType = String(statement.predicateType);
  const bytes = statementBytes(statement);
  const body: SbomBlob = { digest: sha256(bytes), size: bytes.length, mediaType: IN_TOTO_ARTIFACT, bytes };
  const emptyBytes = Buffer.from("{}");
  const empty: SbomBlob = {
    digest: sha256(emptyBytes),
    size: 2,
    mediaType: MediaType.Empty,
    bytes: emptyBytes,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: IN_TOTO_ARTIFACT,
      config: { mediaType: empty.mediaType, digest: empty.digest, size: empty.size },
      layers: [
        {
          mediaType: body.mediaType,
          digest: body.digest,
          size: body.size,
          annotations: { [PREDICATE_ANNOTATION]: predicateType },
        },
      ],
      subject: {
        mediaType: subject.mediaType ?? MediaType.ImageManifest,
        digest: subject.digest,
        size: subject.size,
      },
      annotations: {
        [PREDICATE_ANNOTATION]: predicateType,
        "org.opencontainers.image.created": documentTime(created),
      },
    }),
  );
  return {
    digest: sha256(manifest),
    manifest,
    mediaType: MediaType.ImageManifest,
    artifactType: IN_TOTO_ARTIFACT,
    predicateType,
    blobs: [body, empty],
  };
}

/** Both SBOM referrers (SPDX, then CycloneDX) of an inventory for the image `image`. */
export function sbomReferrers(
  inventory: Inventory,
  subject: SbomSubject,
  image: ImageDescriptor,
): SbomReferrer[] {
  return SBOM_FORMATS.map((format) =>
    sbomReferrer(image, sbomStatement(format, inventory, subject), subject),
  );
}

/** The index entry a referrer gets in a layout (with its predicate type). */
export function referrerEntry(referrer: SbomReferrer): Entry {
  return {
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.manifest.length,
    artifactType: referrer.artifactType,
    annotations: { [PREDICATE_ANNOTATION]: referrer.predicateType },
  };
}
