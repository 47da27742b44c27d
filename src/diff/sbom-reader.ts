// SBOMs read back into the neutral package model: SPDX 2.3 JSON and CycloneDX JSON (1.4–1.6),
// bare or as the predicate of an in-toto statement, itself bare, in a DSSE envelope or in a
// Sigstore bundle (as a signed attestation is stored). Packages come from their purls (type,
// name, version, arch, source); the OS from the document's operating-system component or
// package, else from the purls' `distro` qualifier. Signatures are not checked here: the diff
// says what the SBOM claims; `strata verify` says who made it.
import type { Inventory, OsIdentity, Package } from "../sbom/index.ts";
import { DiffError } from "./errors.ts";
import { osFromPurl, packageFromPurl } from "./purl.ts";

export const SPDX_PREDICATE = "https://spdx.dev/Document/v2.3";
export const CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom/v1.6";
/** The predicate types read as SBOMs (the CycloneDX ones of earlier versions too). */
export const SBOM_PREDICATES: readonly string[] = [
  SPDX_PREDICATE,
  "https://spdx.dev/Document",
  CYCLONEDX_PREDICATE,
  "https://cyclonedx.org/bom",
  "https://cyclonedx.org/bom/v1.5",
  "https://cyclonedx.org/bom/v1.4",
];
/** The largest SBOM read (a Debian image's SPDX document is a few MB). */
export const MAX_SBOM_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function bad(why: string, cause?: unknown): never {
  throw new DiffError(
    "BAD_SBOM",
    `Cannot read the SBOM: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The statement inside a DSSE envelope or a Sigstore bundle, or the document itself. */
function unwrap(doc: Json): Json {
  const envelope = isObject(doc.dsseEnvelope) ? doc.dsseEnvelope : doc;
  const payload = text(envelope.payload);
  if (payload !== undefined && text(envelope.payloadType) !== undefined) {
    try {
      const inner = JSON.parse(Buffer.from(payload, "base64").toString("utf8")) as unknown;
      if (!isObject(inner)) bad("the envelope's payload is not a JSON object");
      return inner;
    } catch (error) {
      if (error instanceof DiffError) throw error;
      bad("the envelope's payload is not JSON", error);
    }
  }
  return doc;
}

function sortPackages(packages: Package[]): Package[] {
  const key = (p: Package) => [p.type, p.name, p.arch ?? "", p.version];
  return packages.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] ?? "") < (kb[i] ?? "") ? -1 : 1;
    return 0;
  });
}

function fromSpdx(doc: Json): Inventory {
  if (doc.packages !== undefined && !Array.isArray(doc.packages)) bad("SPDX packages is not a list");
  const packages: Package[] = [];
  let os: OsIdentity | undefined;
  let distro: OsIdentity | undefined;
  for (const item of (doc.packages ?? []) as unknown[]) {
    if (!isObject(item)) continue;
    if (item.primaryPackagePurpose === "OPERATING-SYSTEM" && text(item.name) !== undefined) {
      const versionId = text(item.versionInfo);
      os = { id: text(item.name) ?? "", ...(versionId === undefined ? {} : { versionId }) };
      continue;
    }
    const refs = Array.isArray(item.externalRefs) ? item.externalRefs : [];
    const purl = refs.find((r): r is Json => isObject(r) && r.referenceType === "purl");
    const locator = text(purl?.referenceLocator);
    if (locator === undefined) continue;
    const declared = text(item.licenseDeclared);
    const licenses =
      declared === undefined || declared === "NOASSERTION" || declared === "NONE" ? [] : [declared];
    const p = packageFromPurl(locator, { licenses });
    if (p !== undefined) packages.push(p);
    distro ??= osFromPurl(locator);
  }
  const identity = os ?? distro;
  return { ...(identity === undefined ? {} : { os: identity }), packages: sortPackages(packages) };
}

function fromCycloneDx(doc: Json): Inventory {
  const packages: Package[] = [];
  let os: OsIdentity | undefined;
  let distro: OsIdentity | undefined;
  const visit = (list: unknown): void => {
    if (list === undefined) return;
    if (!Array.isArray(list)) bad("CycloneDX components is not a list");
    for (const c of list as unknown[]) {
      if (!isObject(c)) continue;
      if (c.type === "operating-system" && text(c.name) !== undefined) {
        const versionId = text(c.version);
        os = { id: text(c.name) ?? "", ...(versionId === undefined ? {} : { versionId }) };
      }
      const purl = text(c.purl);
      if (purl !== undefined) {
        const licenses = (Array.isArray(c.licenses) ? c.licenses : [])
          .map((l: unknown) =>
            isObject(l)
              ? (text(l.expression) ??
                (isObject(l.license) ? (text(l.license.id) ?? text(l.license.name)) : undefined))
              : undefined,
          )
          .filter((l): l is string => l !== undefined);
        const p = packageFromPurl(purl, { licenses });
        if (p !== undefined) packages.push(p);
        distro ??= osFromPurl(purl);
      }
      visit(c.components);
    }
  };
  visit(doc.components);
  const identity = os ?? distro;
  return { ...(identity === undefined ? {} : { os: identity }), packages: sortPackages(packages) };
}

/**
 * The inventory an SBOM describes: SPDX 2.3 JSON or CycloneDX JSON, bare or inside an in-toto
 * statement (bare, in a DSSE envelope or in a Sigstore bundle).
 */
export function inventoryFromSbom(bytes: Buffer): Inventory {
  if (bytes.length > MAX_SBOM_BYTES) bad(`it is larger than ${MAX_SBOM_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    bad("it is not JSON", error);
  }
  if (!isObject(parsed)) bad("it is not a JSON object");
  let doc = unwrap(parsed);
  if (text(doc._type)?.startsWith("https://in-toto.io/Statement/") === true) {
    const predicateType = text(doc.predicateType) ?? "";
    if (!SBOM_PREDICATES.some((p) => predicateType === p))
      bad(`the statement's predicateType "${predicateType.slice(0, 200)}" is not SPDX or CycloneDX`);
    if (!isObject(doc.predicate)) bad("the statement has no predicate object");
    doc = doc.predicate;
  }
  if (text(doc.spdxVersion)?.startsWith("SPDX-") === true) return fromSpdx(doc);
  if (doc.bomFormat === "CycloneDX") return fromCycloneDx(doc);
  return bad("it is neither SPDX (spdxVersion) nor CycloneDX (bomFormat)");
}
