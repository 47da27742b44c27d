// Build provenance as an in-toto Statement v1 with an SLSA Provenance v1 predicate: what was
// built (the image digest), by what builder, from which template (the Containerfile's digest),
// with which parameters (build args, target) and from which inputs (base images and the content
// COPY and ADD read). It is stored beside the image as an OCI referrer (subject: the image).
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MediaType } from "../oci/index.ts";
import type { BuildInput } from "./engine/engine.ts";

export const IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
export const BUILD_TYPE = "https://strata.dev/build/containerfile/v1";
/** The index.json annotation that names a referrer's subject in an OCI layout. */
export const SUBJECT_ANNOTATION = "dev.strata.subject";
/** The artifactType of the referrer that carries a statement. */
export const IN_TOTO_ARTIFACT = "application/vnd.in-toto+json";
/**
 * The annotation (on the referrer manifest and a layout's index entry) naming the statement's
 * predicate type, so that provenance and other attestations of one image (SBOMs) tell apart.
 */
export const PREDICATE_ANNOTATION = "in-toto.io/predicate-type";

export interface ProvenanceInput {
  /** Name of the subject, e.g. the tag written. */
  readonly name: string;
  /** The image manifest digest. */
  readonly digest: string;
  readonly containerfile: { readonly path: string; readonly text: string };
  /** The image template (strata.yaml) the build was made from, when there was one. */
  readonly template?: { readonly path: string; readonly text: string };
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly network: string;
  readonly inputs: readonly BuildInput[];
  readonly builderId: string;
  readonly startedOn: Date;
  readonly finishedOn: Date;
}

const hex = (bytes: string | Buffer): string => createHash("sha256").update(bytes).digest("hex");

export function provenanceStatement(input: ProvenanceInput): Record<string, unknown> {
  return {
    _type: IN_TOTO_STATEMENT,
    subject: [{ name: input.name, digest: { sha256: input.digest.replace(/^sha256:/, "") } }],
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          containerfile: input.containerfile.path,
          ...(input.template === undefined ? {} : { template: input.template.path }),
          buildArgs: input.buildArgs,
          ...(input.target === undefined ? {} : { target: input.target }),
        },
        internalParameters: { network: input.network },
        resolvedDependencies: [
          ...(input.template === undefined
            ? []
            : [{ uri: `file:${input.template.path}`, digest: { sha256: hex(input.template.text) } }]),
          { uri: `file:${input.containerfile.path}`, digest: { sha256: hex(input.containerfile.text) } },
          ...input.inputs.map((i) => ({ uri: i.uri, digest: { sha256: i.sha256 } })),
        ],
      },
      runDetails: {
        builder: { id: input.builderId },
        metadata: { startedOn: input.startedOn.toISOString(), finishedOn: input.finishedOn.toISOString() },
      },
    },
  };
}

export interface ArtifactBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

/** A referrer as bytes: its manifest and the blobs it names, in push order (manifest last). */
export interface Referrer {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly artifactType: string;
  readonly blobs: readonly ArtifactBlob[];
}

const blobOf = (mediaType: string, bytes: Buffer): ArtifactBlob => ({
  digest: `sha256:${hex(bytes)}`,
  size: bytes.length,
  mediaType,
  bytes,
});

/**
 * The statement as an OCI referrer of the image `subject`: an artifact manifest (artifactType
 * in-toto, the empty config, one layer with the statement).
 */
export function provenanceReferrer(
  subject: { digest: string; size: number },
  statement: Record<string, unknown>,
): Referrer {
  const body = blobOf(IN_TOTO_ARTIFACT, Buffer.from(JSON.stringify(statement)));
  const empty = blobOf(MediaType.Empty, Buffer.from("{}"));
  const finishedOn = (statement.predicate as { runDetails: { metadata: { finishedOn: string } } }).runDetails
    .metadata.finishedOn;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: IN_TOTO_ARTIFACT,
      config: { mediaType: empty.mediaType, digest: empty.digest, size: empty.size },
      layers: [{ mediaType: body.mediaType, digest: body.digest, size: body.size }],
      subject: { mediaType: MediaType.ImageManifest, digest: subject.digest, size: subject.size },
      annotations: {
        [PREDICATE_ANNOTATION]: SLSA_PROVENANCE,
        "org.opencontainers.image.created": String(finishedOn),
      },
    }),
  );
  return {
    digest: `sha256:${hex(manifest)}`,
    manifest,
    mediaType: MediaType.ImageManifest,
    artifactType: IN_TOTO_ARTIFACT,
    blobs: [body, empty],
  };
}

/**
 * Writes the statement into the OCI layout at `dir` as a referrer of the image `subject`, listed
 * in index.json. Returns the referrer's manifest digest.
 */
export async function attachToLayout(
  dir: string,
  subject: { digest: string; size: number },
  statement: Record<string, unknown>,
): Promise<string> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const referrer = provenanceReferrer(subject, statement);
  for (const blob of referrer.blobs) await writeFile(join(blobs, hex(blob.bytes)), blob.bytes);
  await writeFile(join(blobs, hex(referrer.manifest)), referrer.manifest);
  const digest = referrer.digest;
  const indexPath = join(dir, "index.json");
  const index = JSON.parse(await readFile(indexPath, "utf8")) as { manifests: Record<string, unknown>[] };
  // One provenance per subject: a new build of the same image replaces the earlier one (and
  // leaves the subject's other attestations, such as its SBOMs, alone).
  index.manifests = index.manifests.filter((m) => {
    const annotations = m.annotations as Record<string, string> | undefined;
    const predicate = annotations?.[PREDICATE_ANNOTATION];
    return !(
      m.artifactType === IN_TOTO_ARTIFACT &&
      annotations?.[SUBJECT_ANNOTATION] === subject.digest &&
      (predicate === undefined || predicate === SLSA_PROVENANCE)
    );
  });
  index.manifests.push({
    mediaType: MediaType.ImageManifest,
    digest,
    size: referrer.manifest.length,
    artifactType: IN_TOTO_ARTIFACT,
    annotations: { [SUBJECT_ANNOTATION]: subject.digest, [PREDICATE_ANNOTATION]: SLSA_PROVENANCE },
  });
  await writeFile(`${indexPath}.tmp`, JSON.stringify(index));
  await rename(`${indexPath}.tmp`, indexPath);
  return digest;
}
