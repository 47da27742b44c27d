// Media types: one `as const` set and predicates; nothing else compares media type strings.

export const MediaType = {
  ImageManifest: "application/vnd.oci.image.manifest.v1+json",
  ImageIndex: "application/vnd.oci.image.index.v1+json",
  ImageConfig: "application/vnd.oci.image.config.v1+json",
  ImageLayer: "application/vnd.oci.image.layer.v1.tar",
  ImageLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ImageLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ImageLayerNondistributable: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  ImageLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  ImageLayerNondistributableZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  Empty: "application/vnd.oci.empty.v1+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerForeignLayer: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  /** Docker schema1: recognised only to be refused with a clear message. */
  DockerManifestSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  DockerManifestSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  /** A VM disk as an artifact (src/disk/artifact.ts): its artifactType and its one layer. */
  DiskArtifact: "application/vnd.strata.disk.v1",
  DiskQcow2: "application/vnd.strata.disk.qcow2",
  /**
   * A VM disk cut into content-defined chunks (src/disk/chunked/, docs/disk-format.md): the
   * artifactType of its image index, of the manifest holding its chunk index, and of the
   * manifests listing its chunks; the chunk index blob; a chunk, stored raw or gzip-compressed,
   * or as a delta against chunks of the disk's previous version (a gzip-compressed patch).
   */
  DiskChunked: "application/vnd.strata.disk.chunked.v1",
  DiskChunkIndexManifest: "application/vnd.strata.disk.index.v1",
  DiskChunkIndex: "application/vnd.strata.disk.index.v1+gzip",
  DiskChunkPart: "application/vnd.strata.disk.chunks.v1",
  DiskChunk: "application/vnd.strata.disk.chunk.v1",
  DiskChunkGzip: "application/vnd.strata.disk.chunk.v1+gzip",
  DiskChunkDelta: "application/vnd.strata.disk.chunk-delta.v1+gzip",
  /**
   * Signatures (src/sign/, docs/supply-chain.md): a Sigstore bundle v0.3 — the artifactType of
   * the referrer that carries it and its one layer, as cosign v3 stores it — and cosign's legacy
   * simple-signing payload, a layer of the `sha256-<hex>.sig` tag's manifest.
   */
  SigstoreBundle: "application/vnd.dev.sigstore.bundle.v0.3+json",
  CosignSimpleSigning: "application/vnd.dev.cosign.simplesigning.v1+json",
} as const;

export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

/** Manifests a registry accepts on PUT /manifests. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.ImageManifest,
  MediaType.ImageIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

export function isImageManifest(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ImageManifest || mediaType === MediaType.DockerManifest;
}

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ImageIndex || mediaType === MediaType.DockerManifestList;
}

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return isImageManifest(mediaType) || isIndex(mediaType);
}

/** Docker manifest formats, which (unlike OCI ones) must name their mediaType in the body. */
export function isDockerManifest(mediaType: string | undefined): boolean {
  return mediaType === MediaType.DockerManifest || mediaType === MediaType.DockerManifestList;
}

/** Docker schema1 manifests (signed or not): unsupported. */
export function isDockerSchema1(mediaType: string | undefined): boolean {
  return mediaType === MediaType.DockerManifestSchema1 || mediaType === MediaType.DockerManifestSchema1Signed;
}

export function isLayer(mediaType: string | undefined): boolean {
  return (
    mediaType === MediaType.ImageLayer ||
    mediaType === MediaType.ImageLayerGzip ||
    mediaType === MediaType.ImageLayerZstd ||
    mediaType === MediaType.ImageLayerNondistributable ||
    mediaType === MediaType.ImageLayerNondistributableGzip ||
    mediaType === MediaType.ImageLayerNondistributableZstd ||
    mediaType === MediaType.DockerLayer ||
    mediaType === MediaType.DockerForeignLayer
  );
}

/** A VM disk artifact (one qcow2 blob, or chunked), by the artifactType its manifest declares. */
export function isDiskArtifact(artifactType: string | undefined): boolean {
  return artifactType === MediaType.DiskArtifact || artifactType === MediaType.DiskChunked;
}

export function isConfig(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ImageConfig || mediaType === MediaType.DockerConfig;
}

/** RFC 6838 section 4.2 shape check: type/subtype, no parameters. */
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
export function isWellFormedMediaType(value: unknown): value is string {
  return typeof value === "string" && MEDIA_TYPE_RE.test(value);
}
