// Alpine packages: /lib/apk/db/installed, paragraphs of `X:value` lines separated by blank lines
// (apk's installed database): P name, V version, A arch, o origin (the source package), L
// license, I installed size in bytes, m maintainer, T description. File lines (F, R, Z, a, M…)
// are skipped. A line that is not `X:value` is an error naming the file and line.
import { SbomError } from "./errors.ts";
import type { OsIdentity, Package } from "./model.ts";
import { distroQualifier, packageUrl } from "./purl.ts";
import type { FileSource } from "./source.ts";
import { cleanText } from "./text.ts";
import type { CatalogLimits } from "./dpkg.ts";

export const APK_INSTALLED = "/lib/apk/db/installed";
/** Longest line accepted: a description or a license is far shorter. */
const MAX_LINE = 64 * 1024;

export const apkWants = (path: string): boolean => path === APK_INSTALLED || path === `/usr${APK_INSTALLED}`;

export function parseApkInstalled(
  text: string,
  os: OsIdentity | undefined,
  file: string,
  maxPackages: number,
): Package[] {
  const packages: Package[] = [];
  let fields = new Map<string, string>();
  let start = 0;
  const close = () => {
    if (fields.size === 0) return;
    const name = cleanText(fields.get("P") ?? "");
    const version = cleanText(fields.get("V") ?? "");
    if (name === "") throw new SbomError("package without a name (P:)", { file, line: start });
    if (version === "") throw new SbomError(`package "${name}" has no version (V:)`, { file, line: start });
    if (packages.length >= maxPackages)
      throw new SbomError(`more than ${maxPackages} packages`, { file, line: start });
    const arch = cleanText(fields.get("A") ?? "");
    const origin = cleanText(fields.get("o") ?? "");
    const license = cleanText(fields.get("L") ?? "");
    const size = fields.get("I");
    const maintainer = cleanText(fields.get("m") ?? "");
    const description = cleanText(fields.get("T") ?? "");
    packages.push({
      type: "apk",
      name,
      version,
      ...(arch ? { arch } : {}),
      ...(origin ? { source: { name: origin } } : {}),
      purl: packageUrl({
        type: "apk",
        namespace: os?.id ?? "alpine",
        name,
        version,
        qualifiers: { arch, distro: distroQualifier(os) },
      }),
      licenses: license ? [license] : [],
      ...(size !== undefined && /^\d{1,15}$/.test(size) ? { installedSize: Number(size) } : {}),
      ...(maintainer ? { maintainer } : {}),
      ...(description ? { description } : {}),
    });
    fields = new Map();
  };
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") {
      close();
      continue;
    }
    if (line.length > MAX_LINE)
      throw new SbomError(`line longer than ${MAX_LINE} bytes`, { file, line: i + 1 });
    if (!/^[A-Za-z]:/.test(line))
      throw new SbomError(`expected "X:value", got "${cleanText(line.slice(0, 80))}"`, { file, line: i + 1 });
    if (fields.size === 0) start = i + 1;
    const key = line[0] ?? "";
    // The first of a key counts: later F/R lines repeat per file, P/V never do.
    if (!fields.has(key)) fields.set(key, line.slice(2));
  }
  close();
  return packages;
}

/** The Alpine packages in the root, or [] when it has no apk database. */
export async function catalogApk(
  source: FileSource,
  os: OsIdentity | undefined,
  limits: CatalogLimits,
): Promise<Package[]> {
  for (const path of [APK_INSTALLED, `/usr${APK_INSTALLED}`]) {
    const bytes = await source.readFile(path, limits.maxDatabaseBytes);
    if (bytes !== undefined) return parseApkInstalled(bytes.toString("utf8"), os, path, limits.maxPackages);
  }
  return [];
}
