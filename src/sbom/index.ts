// Public surface of the SBOM domain: what a root filesystem holds (catalogers over a FileSource),
// SPDX 2.3 and CycloneDX 1.6 documents of it, and SBOM attestations attached as referrers.
export type { Inventory, OsIdentity, Package, PackageType } from "./model.ts";
export { SbomError } from "./errors.ts";
export type { FileSource } from "./source.ts";
export { dirSource } from "./dir-source.ts";
export { layerSource, type LayerFile, type LayerSourceOptions } from "./layer-source.ts";
export { catalog, catalogDirectory, catalogLayers, catalogWants, sortPackages } from "./catalog.ts";
export { DEFAULT_LIMITS, type CatalogLimits } from "./dpkg.ts";
export { packageUrl, purlEncode, type PurlParts } from "./purl.ts";
export type { SbomSubject } from "./subject.ts";
export { spdxDocument, SPDX_PREDICATE, SPDX_MEDIA_TYPE } from "./spdx.ts";
export { cyclonedxDocument, cyclonedxJson, CYCLONEDX_PREDICATE, CYCLONEDX_MEDIA_TYPE } from "./cyclonedx.ts";
export {
  IN_TOTO_ARTIFACT,
  IN_TOTO_STATEMENT,
  PREDICATE_ANNOTATION,
  PREDICATE_TYPES,
  SBOM_FORMATS,
  sbomDocument,
  sbomReferrer,
  sbomReferrers,
  sbomStatement,
  statementBytes,
  type ImageDescriptor,
  type SbomFormat,
  type SbomReferrer,
} from "./attestation.ts";
export {
  attachSboms,
  attachSbomsToLayout,
  findAttachedSbom,
  MAX_STATEMENT_BYTES,
  type StoredSbom,
} from "./attach.ts";
