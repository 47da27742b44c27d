// CycloneDX 1.6 JSON through the official library (@cyclonedx/cyclonedx-library): the image is
// metadata.component (a container), the OS an operating-system component, every installed
// package a library component with its purl, licenses (an SPDX id, an SPDX expression, or a
// name when the package's license is neither) and properties for what CycloneDX has no field
// for: the package type, architecture, source package and installed size. bom-refs are the
// purls, the serial number and timestamp derive from the image, and lists are sorted, so the
// same inventory of the same image gives the same bytes.
import { Enums, Models, Serialize, Spec } from "@cyclonedx/cyclonedx-library";
import { isSpdxExpression, isSpdxId } from "./licenses.ts";
import type { Inventory, Package } from "./model.ts";
import { digestHex, documentTime, imagePurl, shortHash, type SbomSubject } from "./subject.ts";

export const CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom/v1.6";
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";

/** A UUID (version 5 layout) from the image digest: the same image, the same serial number. */
function serialNumber(digest: string): string {
  const h = shortHash(`strata-sbom:${digest}`, 32).split("");
  h[12] = "5";
  h[16] = ((parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  const s = h.join("");
  return `urn:uuid:${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function licensesOf(p: Package): Models.License[] {
  const all = p.licenses;
  if (all.length === 0) return [];
  const complex = all.filter((l) => !isSpdxId(l) && isSpdxExpression(l));
  // CycloneDX takes either license objects or one expression: several licenses where one is an
  // expression become one expression when every part is SPDX.
  if (complex.length > 0 && all.every((l) => isSpdxExpression(l)))
    return [
      new Models.LicenseExpression(
        all.length === 1 ? (all[0] ?? "") : all.map((l) => `(${l})`).join(" AND "),
      ),
    ];
  return all.map((l) => (isSpdxId(l) ? new Models.SpdxLicense(l) : new Models.NamedLicense(l)));
}

function component(p: Package, bomRef: string): Models.Component {
  const properties = [
    new Models.Property("strata:package:type", p.type),
    ...(p.arch === undefined ? [] : [new Models.Property("strata:package:arch", p.arch)]),
    ...(p.source === undefined ? [] : [new Models.Property("strata:package:source", p.source.name)]),
    ...(p.source?.version === undefined
      ? []
      : [new Models.Property("strata:package:source-version", p.source.version)]),
    ...(p.installedSize === undefined
      ? []
      : [new Models.Property("strata:package:installed-size", String(p.installedSize))]),
  ];
  return new Models.Component(Enums.ComponentType.Library, p.name, {
    bomRef,
    version: p.version,
    purl: p.purl,
    ...(p.description === undefined ? {} : { description: p.description }),
    ...(p.maintainer === undefined ? {} : { publisher: p.maintainer }),
    licenses: new Models.LicenseRepository(licensesOf(p)),
    properties: new Models.PropertyRepository(properties),
  });
}

/** The CycloneDX 1.6 BOM of an inventory, as its JSON text. */
export function cyclonedxJson(inventory: Inventory, subject: SbomSubject): string {
  const image = new Models.Component(Enums.ComponentType.Container, subject.name, {
    bomRef: imagePurl(subject),
    version: subject.digest,
    purl: imagePurl(subject),
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm["SHA-256"], digestHex(subject.digest)]]),
  });
  const tool = subject.tool ?? "strata";
  const dash = tool.lastIndexOf("-");
  const metadata = new Models.Metadata({
    timestamp: new Date(documentTime(subject)),
    component: image,
    tools: new Models.Tools({
      components: new Models.ComponentRepository([
        new Models.Component(Enums.ComponentType.Application, dash > 0 ? tool.slice(0, dash) : tool, {
          ...(dash > 0 ? { version: tool.slice(dash + 1) } : {}),
        }),
      ]),
    }),
    properties: new Models.PropertyRepository(
      (inventory.warnings ?? []).map((w) => new Models.Property("strata:sbom:warning", w)),
    ),
  });
  const components: Models.Component[] = [];
  if (inventory.os !== undefined) {
    const os = inventory.os;
    components.push(
      new Models.Component(Enums.ComponentType.OperatingSystem, os.id, {
        bomRef: `os:${os.id}${os.versionId === undefined ? "" : `@${os.versionId}`}`,
        ...(os.versionId === undefined ? {} : { version: os.versionId }),
        ...(os.prettyName === undefined ? {} : { description: os.prettyName }),
      }),
    );
  }
  const refs = new Set<string>();
  for (const p of inventory.packages) {
    let ref = p.purl;
    for (let n = 2; refs.has(ref); n++) ref = `${p.purl}#${n}`;
    refs.add(ref);
    components.push(component(p, ref));
  }
  const bom = new Models.Bom({
    version: 1,
    serialNumber: serialNumber(subject.digest),
    metadata,
    components: new Models.ComponentRepository(components),
  });
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true });
}

/** The CycloneDX 1.6 BOM of an inventory, as a JSON value. */
export function cyclonedxDocument(inventory: Inventory, subject: SbomSubject): Record<string, unknown> {
  return JSON.parse(cyclonedxJson(inventory, subject)) as Record<string, unknown>;
}
