// Reads from the registry API (/v2) with the session cookie: a version's referrers and the blobs
// they hold, turned into what the version page shows — provenance (SLSA v1), SBOM packages (SPDX
// or CycloneDX) and signatures (Sigstore bundles) as the attached documents state them; and the
// one change the registry takes from the console, a manifest or tag delete. Nothing here verifies
// a signature: the server does (the gallery API's signatures read), as `strata verify` does.

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const IN_TOTO = "application/vnd.in-toto+json";
export const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const PREDICATE = "in-toto.io/predicate-type";
const SLSA = "https://slsa.dev/provenance/v1";
const SPDX = "https://spdx.dev/Document/v2.3";
const CYCLONEDX = "https://cyclonedx.org/bom/v1.6";
/** Statements and bundles larger than this are not read. */
const BLOB_MAX = 16 * 1024 * 1024;

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads /v2 + path (GET or HEAD) with the session cookie. */
export async function v2(method: "GET" | "HEAD", path: string, accept: string): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept, "X-Requested-With": "strata-console" };
  const res = await fetch(`/v2/${path}`, { method, headers, credentials: "same-origin" });
  if (!res.ok) {
    let message = `The registry answered ${res.status}`;
    if (method !== "HEAD") {
      try {
        const body = (await res.json()) as { errors?: { message?: string }[] };
        message = body.errors?.[0]?.message ?? message;
      } catch {
        // Not JSON: the status says enough.
      }
    }
    throw new RegistryError(res.status, message);
  }
  return res;
}

/**
 * Deletes a tag (or a manifest by digest) with the session cookie: the registry accepts that one
 * change from the console, with the session's CSRF token, where the user may delete.
 */
export async function deleteManifest(
  repositoryPath: string,
  reference: string,
  csrfToken: string | undefined,
): Promise<void> {
  const headers: Record<string, string> = { "X-Requested-With": "strata-console" };
  if (csrfToken !== undefined) headers["X-CSRF-Token"] = csrfToken;
  const res = await fetch(`/v2/${repositoryPath}/manifests/${encodeURIComponent(reference)}`, {
    method: "DELETE",
    headers,
    credentials: "same-origin",
  });
  if (res.ok) return;
  let message = `The registry answered ${res.status}`;
  try {
    const body = (await res.json()) as { errors?: { message?: string }[] };
    message = body.errors?.[0]?.message ?? message;
  } catch {
    // Not JSON: the status says enough.
  }
  throw new RegistryError(res.status, message);
}

async function json<T>(path: string, accept: string): Promise<T> {
  const res = await v2("GET", path, accept);
  const length = Number(res.headers.get("content-length") ?? "0");
  if (length > BLOB_MAX) throw new RegistryError(413, `${path} is larger than the console reads`);
  return (await res.json()) as T;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}
interface ManifestDoc {
  artifactType?: string;
  layers?: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Provenance {
  digest: string;
  builder?: string;
  buildType?: string;
  source?: string;
  revision?: string;
  buildId?: string;
  startedOn?: string;
  finishedOn?: string;
}

export interface SbomPackage {
  name: string;
  version?: string;
  purl?: string;
}

export interface Sbom {
  digest: string;
  format: "SPDX 2.3" | "CycloneDX 1.6";
  packages: SbomPackage[];
}

export interface Signature {
  digest: string;
  keyId?: string;
  /** The signing time as the bundle states it (the signer's claim). */
  signedAt?: string;
  reference?: string;
  created?: string;
}

export interface SupplyChain {
  referrers: number;
  provenance?: Provenance;
  sbom?: Sbom;
  signatures: Signature[];
  /** Referrers that could not be read, with why. */
  problems: string[];
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The statement or bundle a referrer holds in its one layer. */
async function layerOf(repo: string, digest: string): Promise<unknown> {
  const manifest = await json<ManifestDoc>(`${repo}/manifests/${digest}`, OCI_MANIFEST);
  const layer = manifest.layers?.[0];
  if (layer === undefined) throw new Error(`Referrer ${digest} has no layer`);
  if ((layer.size ?? 0) > BLOB_MAX) throw new Error(`Referrer ${digest}'s layer is too large to show`);
  return json<unknown>(`${repo}/blobs/${layer.digest}`, "*/*");
}

function provenanceOf(digest: string, statement: unknown): Provenance {
  const predicate = obj(obj(statement).predicate);
  const definition = obj(predicate.buildDefinition);
  const params = obj(definition.externalParameters);
  const run = obj(predicate.runDetails);
  const metadata = obj(run.metadata);
  const p: Provenance = { digest };
  const set = (key: Exclude<keyof Provenance, "digest">, value: string | undefined) => {
    if (value !== undefined) p[key] = value;
  };
  set("builder", str(obj(run.builder).id));
  set("buildType", str(definition.buildType));
  set("source", str(params.source) ?? str(params.repository) ?? str(params.containerfile));
  set("revision", str(params.revision));
  set("buildId", str(metadata.invocationId));
  set("startedOn", str(metadata.startedOn));
  set("finishedOn", str(metadata.finishedOn));
  return p;
}

function sbomOf(digest: string, predicateType: string, statement: unknown): Sbom {
  const doc = obj(obj(statement).predicate);
  if (predicateType === SPDX) {
    const list = Array.isArray(doc.packages) ? doc.packages : [];
    const packages = list.map(obj).flatMap((p): SbomPackage[] => {
      const name = str(p.name);
      // The image itself and its operating system are described beside the packages.
      if (
        name === undefined ||
        p.primaryPackagePurpose === "CONTAINER" ||
        p.primaryPackagePurpose === "OPERATING_SYSTEM"
      )
        return [];
      const refs = Array.isArray(p.externalRefs) ? p.externalRefs.map(obj) : [];
      const purl = str(refs.find((r) => r.referenceType === "purl")?.referenceLocator);
      const version = str(p.versionInfo);
      return [
        { name, ...(version === undefined ? {} : { version }), ...(purl === undefined ? {} : { purl }) },
      ];
    });
    return { digest, format: "SPDX 2.3", packages };
  }
  const list = Array.isArray(doc.components) ? doc.components : [];
  const packages = list.map(obj).flatMap((c): SbomPackage[] => {
    const name = str(c.name);
    if (name === undefined || c.type === "operating-system" || c.type === "container") return [];
    const version = str(c.version);
    const purl = str(c.purl);
    return [{ name, ...(version === undefined ? {} : { version }), ...(purl === undefined ? {} : { purl }) }];
  });
  return { digest, format: "CycloneDX 1.6", packages };
}

/**
 * A key id as `strata verify` and the gallery's keys API spell it (hex SHA-256): cosign's hint is
 * the same hash in base64.
 */
function hexKeyId(hint: string): string {
  try {
    const raw = atob(hint);
    if (raw.length !== 32) return hint;
    return [...raw].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  } catch {
    return hint;
  }
}

function signatureOf(digest: string, created: string | undefined, bundle: unknown): Signature {
  const b = obj(bundle);
  const s: Signature = { digest };
  const keyId = str(obj(obj(b.verificationMaterial).publicKey).hint);
  if (keyId !== undefined) s.keyId = hexKeyId(keyId);
  if (created !== undefined) s.created = created;
  const payload = str(obj(b.dsseEnvelope).payload);
  if (payload !== undefined) {
    try {
      const statement = obj(JSON.parse(atob(payload)));
      const subject = Array.isArray(statement.subject) ? obj(statement.subject[0]) : {};
      const annotations = obj(subject.annotations);
      const signedAt = str(annotations["dev.strata.signature.signed-at"]);
      const reference = str(annotations["dev.strata.signature.reference"]);
      if (signedAt !== undefined) s.signedAt = signedAt;
      if (reference !== undefined) s.reference = reference;
    } catch {
      // A payload that is not a statement: the key id and the manifest's time are still shown.
    }
  }
  return s;
}

/** Everything attached to `digest` in `repo` that the console can show. */
export async function supplyChain(repo: string, digest: string): Promise<SupplyChain> {
  const index = await json<{ manifests?: Descriptor[] }>(`${repo}/referrers/${digest}`, OCI_INDEX);
  const referrers = index.manifests ?? [];
  const out: SupplyChain = { referrers: referrers.length, signatures: [], problems: [] };
  // The newest of each kind wins: referrers are listed oldest first.
  for (const r of [...referrers].reverse()) {
    const predicateType = r.annotations?.[PREDICATE];
    try {
      if (r.artifactType === BUNDLE) {
        out.signatures.push(
          signatureOf(
            r.digest,
            r.annotations?.["org.opencontainers.image.created"],
            await layerOf(repo, r.digest),
          ),
        );
      } else if (r.artifactType === IN_TOTO && predicateType === SLSA && out.provenance === undefined) {
        out.provenance = provenanceOf(r.digest, await layerOf(repo, r.digest));
      } else if (
        r.artifactType === IN_TOTO &&
        (predicateType === SPDX || predicateType === CYCLONEDX) &&
        (out.sbom === undefined || (out.sbom.format !== "SPDX 2.3" && predicateType === SPDX))
      ) {
        out.sbom = sbomOf(r.digest, predicateType, await layerOf(repo, r.digest));
      }
    } catch (e) {
      out.problems.push(`${r.digest}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}
