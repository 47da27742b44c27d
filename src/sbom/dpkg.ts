// Debian packages: /var/lib/dpkg/status (packages whose Status is "install ok installed") and
// /var/lib/dpkg/status.d/* (one file per package, as distroless images have them; no Status
// field means installed). Licenses come from /usr/share/doc/PACKAGE/copyright when it is in the
// machine-readable format (DEP-5): every `License:` synopsis, mapped to SPDX where it maps.
import { SbomError } from "./errors.ts";
import { parseDeb822, type Paragraph } from "./deb822.ts";
import { dep5ToSpdx } from "./licenses.ts";
import type { OsIdentity, Package } from "./model.ts";
import { distroQualifier, packageUrl } from "./purl.ts";
import type { FileSource } from "./source.ts";
import { cleanText, firstLine } from "./text.ts";

export const DPKG_STATUS = "/var/lib/dpkg/status";
export const DPKG_STATUS_D = "/var/lib/dpkg/status.d";
export const DOC_DIR = "/usr/share/doc";

export interface CatalogLimits {
  /** Largest package database file read (default 64 MiB). */
  readonly maxDatabaseBytes: number;
  /** Most packages in one root (default 100,000). */
  readonly maxPackages: number;
  /** Largest copyright file read for licenses; a larger one gives no licenses (default 1 MiB). */
  readonly maxCopyrightBytes: number;
}

export const DEFAULT_LIMITS: CatalogLimits = {
  maxDatabaseBytes: 64 * 1024 * 1024,
  maxPackages: 100_000,
  maxCopyrightBytes: 1024 * 1024,
};

/** True for the paths this cataloger reads (for sources that keep only what is wanted). */
export function dpkgWants(path: string): boolean {
  return (
    path === DPKG_STATUS ||
    (path.startsWith(`${DPKG_STATUS_D}/`) && !path.slice(DPKG_STATUS_D.length + 1).includes("/")) ||
    /^\/usr\/share\/doc\/[^/]+\/copyright$/.test(path)
  );
}

const NAME = /^[a-z0-9][a-z0-9+.-]*$/;

/** `name (version)` or `name` of a Source field. */
function parseSource(value: string): { name: string; version?: string } | undefined {
  const m = /^(\S+)(?:\s+\(([^)]*)\))?$/.exec(value.trim());
  if (m?.[1] === undefined) return undefined;
  const version = m[2]?.trim();
  return { name: cleanText(m[1]), ...(version ? { version: cleanText(version) } : {}) };
}

/** The licenses a DEP-5 copyright file declares, or [] when it is not in that format. */
export function dep5Licenses(text: string, file: string): string[] {
  let paragraphs: Paragraph[];
  try {
    paragraphs = parseDeb822(text, file, 100_000);
  } catch {
    // A copyright file that is not even deb822 is free text: it declares nothing machine-readable.
    return [];
  }
  const header = paragraphs[0]?.fields.get("format");
  if (header === undefined || !/copyright-format|dep-?5/i.test(header)) return [];
  const licenses = new Set<string>();
  for (const p of paragraphs) {
    const license = p.fields.get("license");
    // Standalone license paragraphs (License without Files) only hold texts.
    if (license === undefined || (!p.fields.has("files") && p !== paragraphs[0])) continue;
    const synopsis = firstLine(license);
    if (synopsis !== "") licenses.add(dep5ToSpdx(synopsis));
  }
  return [...licenses].sort();
}

function toPackage(
  p: Paragraph,
  file: string,
  os: OsIdentity | undefined,
  licenses: readonly string[],
): Package {
  const get = (field: string) => p.fields.get(field);
  const rawName = get("package");
  const version = get("version");
  if (rawName === undefined || rawName === "")
    throw new SbomError("paragraph without a Package field", { file, line: p.line });
  if (version === undefined || version === "")
    throw new SbomError(`package "${cleanText(rawName)}" has no Version`, { file, line: p.line });
  const name = cleanText(rawName);
  if (!NAME.test(name))
    throw new SbomError(`package name "${name.slice(0, 100)}" is not a Debian package name`, {
      file,
      line: p.line,
    });
  const arch = get("architecture");
  const source = get("source") === undefined ? undefined : parseSource(get("source") ?? "");
  const size = get("installed-size");
  const kib = size !== undefined && /^\d{1,15}$/.test(size.trim()) ? Number(size.trim()) : undefined;
  const cleanVersion = cleanText(version);
  const cleanArch = arch === undefined ? undefined : cleanText(arch);
  const maintainer = get("maintainer");
  const description = get("description");
  return {
    type: "deb",
    name,
    version: cleanVersion,
    ...(cleanArch ? { arch: cleanArch } : {}),
    ...(source === undefined ? {} : { source }),
    purl: packageUrl({
      type: "deb",
      namespace: os?.id ?? "debian",
      name,
      version: cleanVersion,
      qualifiers: { arch: cleanArch, distro: distroQualifier(os) },
    }),
    licenses,
    ...(kib === undefined ? {} : { installedSize: kib * 1024 }),
    ...(maintainer ? { maintainer: cleanText(maintainer) } : {}),
    ...(description ? { description: firstLine(description) } : {}),
  };
}

async function readText(source: FileSource, path: string, max: number): Promise<string | undefined> {
  return (await source.readFile(path, max))?.toString("utf8");
}

async function licensesOf(source: FileSource, name: string, limits: CatalogLimits): Promise<string[]> {
  const path = `${DOC_DIR}/${name}/copyright`;
  let text: string | undefined;
  try {
    text = await readText(source, path, limits.maxCopyrightBytes);
  } catch (error) {
    // An oversized copyright file declares nothing we read; the package is still listed.
    if (error instanceof SbomError) return [];
    throw error;
  }
  return text === undefined ? [] : dep5Licenses(text, path);
}

const installed = (p: Paragraph): boolean => {
  const status = p.fields.get("status");
  return status === undefined || status.trim().split(/\s+/).join(" ") === "install ok installed";
};

/** The Debian packages in the root, or [] when it has no dpkg database. */
export async function catalogDpkg(
  source: FileSource,
  os: OsIdentity | undefined,
  limits: CatalogLimits = DEFAULT_LIMITS,
): Promise<Package[]> {
  const found: { p: Paragraph; file: string }[] = [];
  const status = await readText(source, DPKG_STATUS, limits.maxDatabaseBytes);
  if (status !== undefined) {
    for (const p of parseDeb822(status, DPKG_STATUS, limits.maxPackages)) {
      // Status is required in the status file: a paragraph without one is not installed.
      if (p.fields.has("status") && installed(p)) found.push({ p, file: DPKG_STATUS });
    }
  }
  for (const entry of (await source.list(DPKG_STATUS_D)) ?? []) {
    if (entry.endsWith(".md5sums") || entry.startsWith(".")) continue;
    const file = `${DPKG_STATUS_D}/${entry}`;
    const text = await readText(source, file, limits.maxDatabaseBytes);
    if (text === undefined) continue;
    for (const p of parseDeb822(text, file, limits.maxPackages)) if (installed(p)) found.push({ p, file });
  }
  if (found.length > limits.maxPackages)
    throw new SbomError(`more than ${limits.maxPackages} packages`, { file: DPKG_STATUS });
  const packages: Package[] = [];
  for (const { p, file } of found) {
    const name = cleanText(p.fields.get("package") ?? "");
    const licenses = NAME.test(name) ? await licensesOf(source, name, limits) : [];
    packages.push(toPackage(p, file, os, licenses));
  }
  return packages;
}
