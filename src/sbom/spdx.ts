// SPDX 2.3 JSON, written to its schema: the document describes the image (a CONTAINER package),
// which contains the OS (an OPERATING_SYSTEM package) and every installed package (LIBRARY),
// each with its purl as a PACKAGE-MANAGER reference. Ids and the document namespace derive from
// the image digest and the purls, so the same inventory of the same image gives the same bytes.
// Licenses: SPDX ids and expressions as they are; a name that is not one becomes a LicenseRef
// listed in hasExtractedLicensingInfos with the name as its text. licenseConcluded is always
// NOASSERTION: nothing here concludes a license, packages only declare them.
import { isSpdxExpression } from "./licenses.ts";
import type { Inventory, Package } from "./model.ts";
import { DEFAULT_TOOL, digestHex, documentTime, imagePurl, shortHash, type SbomSubject } from "./subject.ts";

export const SPDX_PREDICATE = "https://spdx.dev/Document/v2.3";
export const SPDX_MEDIA_TYPE = "application/spdx+json";
const NOASSERTION = "NOASSERTION";

type Json = Record<string, unknown>;

/** SPDX's supplier syntax: `Organization: NAME (EMAIL)` from `NAME <EMAIL>`. */
function supplier(maintainer: string | undefined): string {
  if (maintainer === undefined || maintainer === "") return NOASSERTION;
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(maintainer);
  return m === null ? `Organization: ${maintainer}` : `Organization: ${m[1] ?? ""} (${m[2] ?? ""})`;
}

class LicenseRefs {
  private readonly byName = new Map<string, string>();
  private readonly used = new Set<string>();
  ref(name: string): string {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const slug =
      name
        .replace(/[^A-Za-z0-9.]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 64) || "unnamed";
    let id = `LicenseRef-${slug}`;
    if (this.used.has(id)) id = `${id}-${shortHash(name, 8)}`;
    this.used.add(id);
    this.byName.set(name, id);
    return id;
  }
  infos(): Json[] {
    return [...this.byName]
      .map(([name, licenseId]) => ({
        licenseId,
        name,
        extractedText: `The package declares the license "${name}", which is not an SPDX license identifier`,
      }))
      .sort((a, b) => (a.licenseId < b.licenseId ? -1 : 1));
  }
}

function declared(p: Package, refs: LicenseRefs): string {
  if (p.licenses.length === 0) return NOASSERTION;
  const parts = p.licenses.map((l) => (isSpdxExpression(l) ? l : refs.ref(l)));
  return parts.length === 1
    ? (parts[0] ?? NOASSERTION)
    : parts.map((x) => (/\s/.test(x) ? `(${x})` : x)).join(" AND ");
}

/** The SPDX 2.3 document of an inventory, as a JSON value. */
export function spdxDocument(inventory: Inventory, subject: SbomSubject): Json {
  const hex = digestHex(subject.digest);
  const refs = new LicenseRefs();
  const imageId = "SPDXRef-Image";
  const osId = "SPDXRef-OperatingSystem";
  const ids = new Set<string>();
  const packages: Json[] = [
    {
      SPDXID: imageId,
      name: subject.name,
      versionInfo: subject.digest,
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      checksums: [{ algorithm: "SHA256", checksumValue: hex }],
      externalRefs: [
        {
          referenceCategory: "PACKAGE-MANAGER",
          referenceType: "purl",
          referenceLocator: imagePurl(subject),
        },
      ],
      primaryPackagePurpose: "CONTAINER",
    },
  ];
  const relationships: Json[] = [
    { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: imageId },
  ];
  if (inventory.os !== undefined) {
    const os = inventory.os;
    packages.push({
      SPDXID: osId,
      name: os.id,
      ...(os.versionId === undefined ? {} : { versionInfo: os.versionId }),
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      ...(os.prettyName === undefined ? {} : { description: os.prettyName }),
      primaryPackagePurpose: "OPERATING_SYSTEM",
    });
    relationships.push({ spdxElementId: imageId, relationshipType: "CONTAINS", relatedSpdxElement: osId });
  }
  for (const p of inventory.packages) {
    let id = `SPDXRef-Package-${p.type}-${shortHash(p.purl)}`;
    for (let n = 2; ids.has(id); n++) id = `SPDXRef-Package-${p.type}-${shortHash(`${p.purl}#${n}`)}`;
    ids.add(id);
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      supplier: supplier(p.maintainer),
      downloadLocation: NOASSERTION,
      filesAnalyzed: false,
      licenseConcluded: NOASSERTION,
      licenseDeclared: declared(p, refs),
      copyrightText: NOASSERTION,
      ...(p.description === undefined ? {} : { summary: p.description }),
      ...(p.source === undefined
        ? {}
        : {
            sourceInfo: `built from the ${p.type} source package ${p.source.name}${p.source.version === undefined ? "" : ` ${p.source.version}`}`,
          }),
      externalRefs: [
        { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p.purl },
      ],
      primaryPackagePurpose: "LIBRARY",
    });
    relationships.push({ spdxElementId: imageId, relationshipType: "CONTAINS", relatedSpdxElement: id });
  }
  const infos = refs.infos();
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: subject.name,
    documentNamespace: `https://strata.dev/spdx/${hex}`,
    creationInfo: {
      created: documentTime(subject),
      creators: [`Tool: ${subject.tool ?? DEFAULT_TOOL}`],
      ...(inventory.warnings === undefined || inventory.warnings.length === 0
        ? {}
        : { comment: inventory.warnings.join("\n") }),
    },
    packages,
    relationships,
    ...(infos.length === 0 ? {} : { hasExtractedLicensingInfos: infos }),
  };
}
