// Manifests and indexes: parse untrusted bytes into a validated value, keeping the bytes as
// pushed (the digest is always of the bytes, never of a re-serialization). Follows image-spec
// manifest.md and image-index.md, Docker schema2 and manifest lists; schema1 is refused.
import { type Digest } from "./digest.ts";
import { parseDescriptor, parseStringMap, type Descriptor } from "./descriptor.ts";
import { OciFormatError } from "./errors.ts";
import { parseJsonObject, formatJsonPath, type JsonDocument, type JsonPath } from "./json.ts";
import {
  MediaType,
  isDockerManifest,
  isDockerSchema1,
  isImageManifest,
  isIndex,
  isWellFormedMediaType,
} from "./media-types.ts";
import { quote, showJson } from "./quote.ts";

export interface ImageManifest {
  readonly kind: "manifest";
  readonly mediaType: string;
  readonly schemaVersion: 2;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageIndex {
  readonly kind: "index";
  readonly mediaType: string;
  readonly schemaVersion: 2;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type Manifest = ImageManifest | ImageIndex;

const SCHEMA1 = "Docker schema1 manifests are unsupported: push an OCI or Docker schema2 manifest";

function invalid(message: string): OciFormatError {
  return new OciFormatError("MANIFEST_INVALID", message);
}

/**
 * Parses manifest bytes. `contentType` is the Content-Type the client sent (may be undefined);
 * when the body names a mediaType too, both must agree. Docker formats must name it in the body.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): Manifest {
  const ct = contentType === undefined ? undefined : stripParameters(contentType).toLowerCase() || undefined;
  if (isDockerSchema1(ct)) throw invalid(SCHEMA1);
  const doc = parseJsonObject(bytes, "manifest", "MANIFEST_INVALID");
  const json = doc.value;
  if (json.schemaVersion === 1) throw invalid(SCHEMA1);
  if (json.schemaVersion !== 2) {
    throw invalid(`Invalid manifest: schemaVersion must be 2, got ${showJson(json.schemaVersion)}`);
  }
  if (doc.isInexactNumber(["schemaVersion"])) {
    throw invalid("Invalid manifest: schemaVersion must be written as the integer 2");
  }
  const declared = json.mediaType;
  if (declared !== undefined && !isWellFormedMediaType(declared)) {
    throw invalid(
      `Invalid manifest: mediaType ${typeof declared === "string" ? `${quote(declared)} is malformed` : "is not a string"}`,
    );
  }
  if (isDockerSchema1(declared)) throw invalid(SCHEMA1);
  if (ct !== undefined && declared !== undefined && ct !== declared) {
    throw invalid(`Invalid manifest: Content-Type ${quote(ct)} does not match mediaType ${quote(declared)}`);
  }
  const mediaType = declared ?? ct ?? inferMediaType(json);
  if (isDockerManifest(mediaType) && declared === undefined) {
    throw invalid(`Invalid manifest: a ${quote(mediaType)} manifest must name its mediaType in the body`);
  }
  const common = {
    schemaVersion: 2 as const,
    mediaType,
    ...optionalArtifactType(json.artifactType),
    ...(json.subject !== undefined ? { subject: parseDescriptor(json.subject, "subject") } : {}),
    ...(json.annotations !== undefined
      ? { annotations: parseStringMap(json.annotations, "manifest annotations") }
      : {}),
  };
  if (isImageManifest(mediaType)) {
    if (json.manifests !== undefined) {
      throw invalid("Invalid manifest: an image manifest has no manifests field");
    }
    if (json.config === undefined) throw invalid("Invalid manifest: config is missing");
    const config = parseDescriptor(json.config, "config");
    if (!Array.isArray(json.layers)) {
      throw invalid(
        `Invalid manifest: layers must be an array${json.layers === undefined ? ", but is missing" : ""}`,
      );
    }
    const layers = json.layers.map((layer, i) => parseDescriptor(layer, `layers[${i}]`));
    checkIntegerSizes(doc);
    return { kind: "manifest", ...common, config, layers };
  }
  if (isIndex(mediaType)) {
    if (json.config !== undefined || json.layers !== undefined) {
      throw invalid("Invalid index: an index has no config or layers field");
    }
    if (!Array.isArray(json.manifests)) {
      throw invalid(
        `Invalid index: manifests must be an array${json.manifests === undefined ? ", but is missing" : ""}`,
      );
    }
    const manifests = json.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`));
    checkIntegerSizes(doc);
    return { kind: "index", ...common, manifests };
  }
  throw invalid(`Invalid manifest: unsupported media type ${quote(mediaType)}`);
}

/** Neither the body nor the Content-Type says: infer from shape, as the spec allows for OCI. */
function inferMediaType(json: Record<string, unknown>): string {
  const looksLikeIndex = json.manifests !== undefined;
  const looksLikeManifest = json.config !== undefined || json.layers !== undefined;
  if (looksLikeIndex && looksLikeManifest) {
    throw invalid("Invalid manifest: has both manifests and config or layers, so its type is ambiguous");
  }
  if (looksLikeIndex) return MediaType.ImageIndex;
  if (looksLikeManifest) return MediaType.ImageManifest;
  throw invalid("Invalid manifest: media type unknown: no mediaType, Content-Type, config or manifests");
}

/** Go clients refuse `"size": 1.0` or `1e3` for an int64, so such manifests are refused here too. */
function checkIntegerSizes(doc: JsonDocument): void {
  const json = doc.value;
  const paths: JsonPath[] = [
    ["config", "size"],
    ["subject", "size"],
  ];
  for (const list of ["layers", "manifests"]) {
    const items = json[list];
    if (Array.isArray(items)) items.forEach((_, i) => paths.push([list, i, "size"]));
  }
  for (const path of paths) {
    if (doc.isInexactNumber(path)) {
      throw invalid(`Invalid manifest: ${formatJsonPath(path)} must be written as an integer`);
    }
  }
}

function optionalArtifactType(value: unknown): { artifactType?: string } {
  if (value === undefined) return {};
  if (!isWellFormedMediaType(value)) throw invalid("Invalid manifest: artifactType is malformed");
  return { artifactType: value };
}

/** The media type of a Content-Type header value, without parameters. */
export function stripParameters(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim();
}

/** The artifact type a referrers listing reports: artifactType, else the config media type. */
export function effectiveArtifactType(manifest: Manifest): string | undefined {
  if (manifest.artifactType !== undefined) return manifest.artifactType;
  return manifest.kind === "manifest" ? manifest.config.mediaType : undefined;
}

/** Blobs an image manifest needs in the repository (config + layers without external urls). */
export function requiredBlobs(manifest: ImageManifest): Descriptor[] {
  const out: Descriptor[] = [manifest.config];
  for (const layer of manifest.layers) {
    if (layer.urls !== undefined && layer.urls.length > 0) continue; // foreign layer
    out.push(layer);
  }
  return out;
}

/** Every digest a manifest refers to (for garbage collection marking). */
export function referencedDigests(manifest: Manifest): Digest[] {
  if (manifest.kind === "manifest") return [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  return manifest.manifests.map((m) => m.digest);
}
