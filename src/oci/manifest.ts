// Manifests and indexes: parse untrusted bytes into a validated value, keeping the bytes as
// pushed (the digest is always of the bytes, never of a re-serialization).
import { type Digest } from "./digest.ts";
import { parseDescriptor, parseStringMap, isPlainObject, type Descriptor } from "./descriptor.ts";
import { OciFormatError } from "./errors.ts";
import { MediaType, isImageManifest, isIndex, isWellFormedMediaType } from "./media-types.ts";

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

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses manifest bytes. `contentType` is the Content-Type the client sent (may be undefined);
 * when the body names a mediaType too, both must agree.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): Manifest {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (cause) {
    throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: not UTF-8", { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new OciFormatError("MANIFEST_INVALID", `Invalid manifest: not JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!isPlainObject(json)) throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: expected an object");
  if (json.schemaVersion !== 2) {
    throw new OciFormatError(
      "MANIFEST_INVALID",
      `Invalid manifest: schemaVersion must be 2, got ${JSON.stringify(json.schemaVersion) ?? "none"}`,
    );
  }
  const declared = json.mediaType;
  if (declared !== undefined && !isWellFormedMediaType(declared)) {
    throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: mediaType is malformed");
  }
  const ct = contentType === undefined ? undefined : stripParameters(contentType);
  if (ct !== undefined && declared !== undefined && ct !== declared) {
    throw new OciFormatError(
      "MANIFEST_INVALID",
      `Invalid manifest: Content-Type "${ct}" does not match mediaType "${declared}"`,
    );
  }
  let mediaType = (declared as string | undefined) ?? ct;
  if (mediaType === undefined) {
    // Neither says: infer from shape, as the spec allows for OCI content.
    if (Array.isArray(json.manifests)) mediaType = MediaType.ImageIndex;
    else if (json.config !== undefined) mediaType = MediaType.ImageManifest;
    else throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: media type unknown");
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
      throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: an image manifest has no manifests field");
    }
    const config = parseDescriptor(json.config, "config");
    if (!Array.isArray(json.layers)) {
      throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: layers must be an array");
    }
    const layers = json.layers.map((layer, i) => parseDescriptor(layer, `layers[${i}]`));
    return { kind: "manifest", ...common, config, layers };
  }
  if (isIndex(mediaType)) {
    if (json.config !== undefined || json.layers !== undefined) {
      throw new OciFormatError("MANIFEST_INVALID", "Invalid index: an index has no config or layers field");
    }
    if (!Array.isArray(json.manifests)) {
      throw new OciFormatError("MANIFEST_INVALID", "Invalid index: manifests must be an array");
    }
    const manifests = json.manifests.map((m, i) => parseDescriptor(m, `manifests[${i}]`));
    return { kind: "index", ...common, manifests };
  }
  throw new OciFormatError("MANIFEST_INVALID", `Invalid manifest: unsupported media type "${mediaType}"`);
}

function optionalArtifactType(value: unknown): { artifactType?: string } {
  if (value === undefined) return {};
  if (!isWellFormedMediaType(value)) {
    throw new OciFormatError("MANIFEST_INVALID", "Invalid manifest: artifactType is malformed");
  }
  return { artifactType: value };
}

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
