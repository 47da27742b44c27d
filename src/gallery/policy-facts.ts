// The facts a policy decides on, read from what the server holds about one manifest of one of its
// repositories: the image config (created, labels), the gallery version the reference names or
// the digest pins (state, channels, latest), its signatures verified against the policies' keys,
// its SBOM and provenance referrers, and its base. Each group is read on its own; a group that
// fails, or is not read within the time given, is left out and named in `unavailable` with the
// reason, so the rules that need it fail closed.
import { findSbom, SBOM_PREDICATES } from "../diff/index.ts";
import {
  isConfig,
  isDigest,
  isDiskArtifact,
  MediaType,
  parseImageConfig,
  parseManifest,
  type Digest,
  type Manifest,
} from "../oci/index.ts";
import {
  ageInDays,
  FACT_GROUPS,
  type BaseFacts,
  type FactGroup,
  type GalleryFacts,
  type ImageFacts,
  type ProvenanceFacts,
  type SbomFacts,
  type SignatureFact,
} from "../policy/index.ts";
import { verifyImage, type TrustedKey } from "../sign/index.ts";
import { poolSource } from "./changes.ts";
import type { GalleryContext } from "./context.ts";
import { computeLatest } from "./lifecycle.ts";
import { LATEST, type ImageVersion } from "./model.ts";
import { galleryRepo, versionRows } from "./resolve.ts";
import { toVersion } from "./rows.ts";
import { isVersionNumber } from "./semver.ts";
import { storeEndpoint } from "./store-endpoint.ts";

const MANIFEST_MAX = 4 * 1024 * 1024;
const CONFIG_MAX = 4 * 1024 * 1024;
const STATEMENT_MAX = 16 * 1024 * 1024;
const IN_TOTO_ARTIFACT = "application/vnd.in-toto+json";
const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
const PREDICATE_ANNOTATIONS = ["in-toto.io/predicate-type", "dev.sigstore.bundle.predicateType"];
const BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest";

/** Most permissive first: a digest pinned by several versions is judged by the best of them. */
const RANK: Record<ImageVersion["state"], number> = {
  published: 0,
  deprecated: 1,
  "end-of-life": 2,
  revoked: 3,
  deleted: 4,
};

export interface FactsTarget {
  /** Repository of this server's registry. */
  readonly repository: string;
  /** The tag or digest as asked. */
  readonly reference: string;
  /** The digest the reference resolved to. */
  readonly digest: Digest;
  /** The reference shown in decisions; default `repository:tag` or `repository@digest`. */
  readonly display?: string;
}

export interface FactsOptions {
  /** Keys signatures are verified with (policy.keys). */
  readonly keys: readonly TrustedKey[];
  /** ms the whole may take; groups not read by then are unavailable. */
  readonly timeoutMs: number;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The fact document of `target`; never throws: what cannot be read is named in `unavailable`. */
export async function gatherFacts(
  ctx: GalleryContext,
  target: FactsTarget,
  options: FactsOptions,
): Promise<ImageFacts> {
  const { repository, reference, digest } = target;
  const tag = isDigest(reference) ? undefined : reference;
  const identity = {
    reference: target.display ?? (tag === undefined ? `${repository}@${digest}` : `${repository}:${tag}`),
    registry: "",
    repository,
    ...(tag === undefined ? {} : { tag }),
    digest,
  };
  const unavailable: Partial<Record<FactGroup, string>> = {};
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
    timer.unref();
  });
  const timedOut = `facts not read within ${options.timeoutMs} ms`;
  async function group<T>(name: FactGroup, read: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await Promise.race([read(), expired]);
      if (value === "timeout") {
        unavailable[name] = timedOut;
        return undefined;
      }
      return value;
    } catch (error) {
      unavailable[name] = reasonOf(error);
      return undefined;
    }
  }

  try {
    const manifestInfo = await group("config", () => readManifestAndConfig(ctx, repository, digest));
    if (manifestInfo === undefined) {
      // Without the manifest nothing else can be told reliably either.
      for (const g of FACT_GROUPS) unavailable[g] ??= unavailable.config ?? timedOut;
      return { mediaType: "", kind: "image", ...identity, labels: {}, unavailable };
    }
    const source = poolSource(ctx, repository);
    const [gallery, signatures, sbom, provenance] = await Promise.all([
      group("gallery", () => galleryFacts(ctx, repository, reference, digest)),
      group("signatures", () => signatureFacts(ctx, repository, digest, options.keys)),
      group("sbom", () => sbomFacts(source, digest)),
      group("provenance", () => provenanceFacts(ctx, repository, digest)),
    ]);
    const base = await group("base", () => baseFacts(ctx, repository, digest, manifestInfo.manifest));
    const { created } = manifestInfo;
    const age = created === undefined ? undefined : ageInDays(created, ctx.now());
    return {
      ...identity,
      mediaType: manifestInfo.mediaType,
      kind: manifestInfo.kind,
      ...(created === undefined ? {} : { created }),
      ...(age === undefined ? {} : { ageDays: age }),
      labels: manifestInfo.labels,
      ...(gallery?.facts === undefined ? {} : { gallery: gallery.facts }),
      ...(signatures === undefined ? {} : { signatures }),
      ...(sbom === undefined ? {} : { sbom }),
      ...(provenance === undefined ? {} : { provenance }),
      ...(base === undefined || base.facts === undefined ? {} : { base: base.facts }),
      ...(Object.keys(unavailable).length === 0 ? {} : { unavailable }),
    };
  } finally {
    clearTimeout(timer);
  }
}

async function readManifestBytes(ctx: GalleryContext, repository: string, digest: Digest) {
  const record = await ctx.meta.manifests.get(repository, digest);
  if (record === undefined) throw new Error(`Repository "${repository}" has no manifest ${digest}`);
  const bytes = await ctx.blobs.read(digest, MANIFEST_MAX);
  return { record, manifest: parseManifest(bytes, record.mediaType) };
}

async function configOf(ctx: GalleryContext, manifest: Manifest) {
  if (manifest.kind !== "manifest" || !isConfig(manifest.config.mediaType)) return undefined;
  return parseImageConfig(await ctx.blobs.read(manifest.config.digest, CONFIG_MAX));
}

/** The manifest, what kind of thing it is, and created/labels from its config (an index: its first image's). */
async function readManifestAndConfig(ctx: GalleryContext, repository: string, digest: Digest) {
  const { record, manifest } = await readManifestBytes(ctx, repository, digest);
  const artifactType = record.artifactType ?? "";
  const kind: ImageFacts["kind"] = isDiskArtifact(artifactType)
    ? "disk"
    : manifest.kind === "index"
      ? "index"
      : "image";
  let imageManifest: Manifest | undefined = manifest;
  if (manifest.kind === "index") {
    const first = manifest.manifests[0];
    imageManifest =
      first === undefined ? undefined : (await readManifestBytes(ctx, repository, first.digest)).manifest;
  } else if (kind === "disk" && record.subject !== undefined) {
    // A disk is judged with the config of the image it was made from.
    imageManifest = (await readManifestBytes(ctx, repository, record.subject).catch(() => undefined))
      ?.manifest;
  }
  const config = imageManifest === undefined ? undefined : await configOf(ctx, imageManifest);
  return {
    manifest,
    mediaType: record.mediaType,
    kind,
    ...(config?.created === undefined ? {} : { created: config.created }),
    labels: { ...(config?.config?.Labels ?? {}) },
  };
}

async function galleryFacts(
  ctx: GalleryContext,
  repository: string,
  reference: string,
  digest: Digest,
): Promise<{ facts?: GalleryFacts }> {
  const repo = await galleryRepo(ctx.db, repository);
  if (repo === undefined) return {};
  const now = ctx.now();
  const versions = (await versionRows(ctx.db, repo.gallery, repo.image)).map((r) =>
    toVersion(r, now, repo.restoreDays),
  );
  const latest = computeLatest(versions);
  const channels = await ctx.db
    .selectFrom("gallery_channels")
    .select(["name", "version"])
    .where("gallery", "=", repo.gallery)
    .where("image", "=", repo.image)
    .execute();
  let ref: GalleryFacts["ref"];
  let version: ImageVersion | undefined;
  if (isDigest(reference)) ref = "digest";
  else if (reference === LATEST) {
    ref = "latest";
    version = latest;
  } else if (isVersionNumber(reference)) {
    ref = "version";
    version = versions.find((v) => v.version === reference);
  } else {
    const channel = channels.find((c) => c.name === reference);
    ref = channel === undefined ? "tag" : "channel";
    version = channel === undefined ? undefined : versions.find((v) => v.version === channel.version);
  }
  if (version?.digest !== digest)
    version = versions.filter((v) => v.digest === digest).sort((a, b) => RANK[a.state] - RANK[b.state])[0];
  if (version === undefined) return {};
  const v = version;
  return {
    facts: {
      gallery: repo.gallery,
      image: repo.image,
      version: v.version,
      state: v.state,
      ...(v.eol === undefined ? {} : { eol: v.eol }),
      pastEol: v.eol !== undefined && Date.parse(v.eol) <= now,
      channels: channels.filter((c) => c.version === v.version).map((c) => c.name),
      latest: latest?.version === v.version,
      ref,
    },
  };
}

async function signatureFacts(
  ctx: GalleryContext,
  repository: string,
  digest: Digest,
  keys: readonly TrustedKey[],
): Promise<SignatureFact[]> {
  // Without trusted keys no signature can be told valid: an empty list, and signedBy fails.
  if (keys.length === 0) return [];
  const result = await verifyImage(storeEndpoint(ctx, repository), digest, keys, {
    now: new Date(ctx.now()),
  });
  return result.signatures.map((s) => ({
    keyId: s.keyId ?? "",
    ...(s.keyName === undefined ? {} : { keyName: s.keyName }),
    valid: s.valid,
    ...(s.signedAt === undefined ? {} : { signedAt: s.signedAt }),
  }));
}

async function sbomFacts(source: ReturnType<typeof poolSource>, digest: Digest): Promise<SbomFacts> {
  const found = await findSbom(source, digest);
  if (found === undefined) return { present: false, formats: [], packageCount: 0, packages: [] };
  const referrers = (await source.referrers?.(digest)) ?? [];
  const formats = new Set<string>();
  for (const r of referrers) {
    const predicate = PREDICATE_ANNOTATIONS.map((k) => r.annotations?.[k]).find((p) => p !== undefined);
    if (predicate === undefined || !SBOM_PREDICATES.includes(predicate)) continue;
    formats.add(predicate.includes("spdx") ? "spdx" : "cyclonedx");
  }
  const packages = found.inventory.packages.map((p) => ({
    name: p.name,
    version: p.version,
    type: p.type,
    purl: p.purl,
  }));
  return { present: true, formats: [...formats], packageCount: packages.length, packages };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The in-toto statement in a referrer's layer: bare, in a DSSE envelope or in a Sigstore bundle. */
function statementOf(bytes: Buffer): Json | undefined {
  const doc = JSON.parse(bytes.toString("utf8")) as unknown;
  if (!isObject(doc)) return undefined;
  const envelope = isObject(doc.dsseEnvelope) ? doc.dsseEnvelope : doc;
  if (typeof envelope.payload === "string") {
    const inner = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as unknown;
    return isObject(inner) ? inner : undefined;
  }
  return doc;
}

async function provenanceFacts(
  ctx: GalleryContext,
  repository: string,
  digest: Digest,
): Promise<ProvenanceFacts> {
  const referrers = await ctx.meta.manifests.referrers(repository, digest);
  for (const referrer of referrers.reverse()) {
    const declared = PREDICATE_ANNOTATIONS.map((k) => referrer.annotations?.[k]).find((p) => p !== undefined);
    if (declared !== SLSA_PROVENANCE) continue;
    if (referrer.artifactType !== IN_TOTO_ARTIFACT && referrer.artifactType !== MediaType.SigstoreBundle)
      continue;
    const { manifest } = await readManifestBytes(ctx, repository, referrer.digest);
    const layer = manifest.kind === "manifest" ? manifest.layers[0] : undefined;
    if (layer === undefined) continue;
    const statement = statementOf(await ctx.blobs.read(layer.digest, STATEMENT_MAX));
    if (statement?.predicateType !== SLSA_PROVENANCE || !isObject(statement.predicate))
      throw new Error(`Provenance ${referrer.digest} is not an SLSA v1 statement`);
    const predicate = statement.predicate;
    const definition = isObject(predicate.buildDefinition) ? predicate.buildDefinition : {};
    const run = isObject(predicate.runDetails) ? predicate.runDetails : {};
    const builder = isObject(run.builder) ? run.builder : {};
    const params = isObject(definition.externalParameters) ? definition.externalParameters : {};
    const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    const builderId = text(builder.id);
    const buildType = text(definition.buildType);
    const source = text(params.source);
    const revision = text(params.revision);
    return {
      present: true,
      ...(builderId === undefined ? {} : { builderId }),
      ...(buildType === undefined ? {} : { buildType }),
      ...(source === undefined ? {} : { source }),
      ...(revision === undefined ? {} : { revision }),
    };
  }
  return { present: false };
}

/** The base: the gallery version row's base digest, else the manifest's base annotation. */
async function baseFacts(
  ctx: GalleryContext,
  repository: string,
  digest: Digest,
  manifest: Manifest,
): Promise<{ facts?: BaseFacts }> {
  const repo = await galleryRepo(ctx.db, repository);
  let baseDigest: string | undefined;
  if (repo !== undefined) {
    const row = await ctx.db
      .selectFrom("gallery_versions")
      .select("base_digest")
      .where("gallery", "=", repo.gallery)
      .where("image", "=", repo.image)
      .where("digest", "=", digest)
      .where("base_digest", "is not", null)
      .executeTakeFirst();
    baseDigest = row?.base_digest ?? undefined;
  }
  baseDigest ??= manifest.annotations?.[BASE_DIGEST_ANNOTATION];
  if (baseDigest === undefined) return {};
  const of = await ctx.db
    .selectFrom("gallery_versions")
    .select(["gallery", "image", "version"])
    .where("digest", "=", baseDigest)
    .where("deleted_at", "is", null)
    .orderBy("created_at", "asc")
    .executeTakeFirst();
  return {
    facts: {
      digest: baseDigest,
      ...(of === undefined ? {} : { definition: `${of.gallery}/${of.image}`, version: of.version }),
    },
  };
}

/** Whether the store's manifest `digest` is what policies judge: an image, an index or a disk, not a referrer. */
export function judgedManifest(info: { readonly artifactType?: string; readonly subject?: string }): boolean {
  if (isDiskArtifact(info.artifactType)) return true;
  return info.subject === undefined;
}
