// RPM packages from rpm's database when it is SQLite (rpmdb.sqlite: Fedora 33+, RHEL 9+), in
// /var/lib/rpm or /usr/lib/sysimage/rpm: each row of its Packages table is a header blob
// (rpm-header.ts). Older databases — BerkeleyDB (`Packages`) and ndb (`Packages.db`) — are
// recognised and not read: the inventory says so in a warning rather than listing nothing in
// silence.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SbomError } from "./errors.ts";
import type { OsIdentity, Package } from "./model.ts";
import { distroQualifier, packageUrl } from "./purl.ts";
import { parseRpmHeader, RpmTag, type HeaderValue } from "./rpm-header.ts";
import type { FileSource } from "./source.ts";
import { cleanText } from "./text.ts";
import type { CatalogLimits } from "./dpkg.ts";

export const RPM_DIRS = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] as const;
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

export const rpmWants = (path: string): boolean =>
  RPM_DIRS.some(
    (dir) =>
      path === `${dir}/rpmdb.sqlite` ||
      path === `${dir}/rpmdb.sqlite-wal` ||
      path === `${dir}/Packages` ||
      path === `${dir}/Packages.db`,
  );

const str = (tags: Map<number, HeaderValue>, tag: number): string | undefined => {
  const value = tags.get(tag);
  return typeof value === "string" ? cleanText(value) : undefined;
};
const num = (tags: Map<number, HeaderValue>, tag: number): number | undefined => {
  const value = tags.get(tag);
  return typeof value === "number" ? value : undefined;
};

/** `openssl-3.0.7-27.el9.src.rpm` → openssl, 3.0.7-27.el9 */
function parseSourceRpm(text: string): { name: string; version?: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(text);
  if (m?.[1] === undefined) return text === "" ? undefined : { name: text };
  return { name: m[1], version: `${m[2]}-${m[3]}` };
}

export function rpmPackage(
  tags: Map<number, HeaderValue>,
  os: OsIdentity | undefined,
  where: string,
): Package {
  const name = str(tags, RpmTag.Name);
  const version = str(tags, RpmTag.Version);
  const release = str(tags, RpmTag.Release);
  if (!name) throw new SbomError("RPM header without a NAME", { file: where });
  if (!version) throw new SbomError(`RPM header of "${name}" without a VERSION`, { file: where });
  const epoch = num(tags, RpmTag.Epoch);
  const arch = str(tags, RpmTag.Arch);
  const license = str(tags, RpmTag.License);
  const sourceRpm = str(tags, RpmTag.SourceRpm);
  const source = sourceRpm === undefined ? undefined : parseSourceRpm(sourceRpm);
  const size = num(tags, RpmTag.LongSize) ?? num(tags, RpmTag.Size);
  const packager = str(tags, RpmTag.Packager) ?? str(tags, RpmTag.Vendor);
  const summary = str(tags, RpmTag.Summary);
  const versionRelease = release ? `${version}-${release}` : version;
  return {
    type: "rpm",
    name,
    version: epoch === undefined ? versionRelease : `${epoch}:${versionRelease}`,
    ...(arch ? { arch } : {}),
    ...(source === undefined ? {} : { source }),
    purl: packageUrl({
      type: "rpm",
      namespace: os?.id ?? "",
      name,
      version: versionRelease,
      qualifiers: {
        arch,
        epoch: epoch === undefined ? undefined : String(epoch),
        distro: distroQualifier(os),
      },
    }),
    licenses: license ? [license] : [],
    ...(size === undefined ? {} : { installedSize: size }),
    ...(packager ? { maintainer: packager } : {}),
    ...(summary ? { description: summary } : {}),
  };
}

export interface RpmResult {
  readonly packages: Package[];
  readonly warnings: string[];
}

async function readSqlite(
  db: Buffer,
  wal: Buffer | undefined,
  path: string,
  os: OsIdentity | undefined,
  limits: CatalogLimits,
): Promise<Package[]> {
  if (!db.subarray(0, 16).equals(SQLITE_MAGIC))
    throw new SbomError("is not an SQLite database", { file: path });
  const { default: Database } = await import("better-sqlite3");
  const dir = await mkdtemp(join(tmpdir(), "strata-rpmdb-"));
  try {
    // A private copy: SQLite may write beside it (its shared-memory index, a checkpoint).
    await writeFile(join(dir, "rpmdb.sqlite"), db);
    if (wal !== undefined) await writeFile(join(dir, "rpmdb.sqlite-wal"), wal);
    let rows: { hnum: number; blob: Buffer }[];
    try {
      const sqlite = new Database(join(dir, "rpmdb.sqlite"), { fileMustExist: true });
      try {
        const count = (sqlite.prepare("SELECT count(*) AS n FROM Packages").get() as { n: number }).n;
        if (count > limits.maxPackages)
          throw new SbomError(`more than ${limits.maxPackages} packages`, { file: path });
        rows = sqlite.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum").all() as typeof rows;
      } finally {
        sqlite.close();
      }
    } catch (error) {
      if (error instanceof SbomError) throw error;
      throw new SbomError(`cannot read its Packages table: ${(error as Error).message}`, {
        file: path,
        cause: error,
      });
    }
    return rows.map((row) => {
      if (!Buffer.isBuffer(row.blob))
        throw new SbomError(`row ${row.hnum} holds no header blob`, { file: path });
      const where = `${path} (row ${row.hnum})`;
      return rpmPackage(parseRpmHeader(row.blob, where), os, where);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The RPM packages in the root, [] when it has no rpm database, a warning when it is not read. */
export async function catalogRpm(
  source: FileSource,
  os: OsIdentity | undefined,
  limits: CatalogLimits,
): Promise<RpmResult> {
  const warnings: string[] = [];
  for (const dir of RPM_DIRS) {
    const path = `${dir}/rpmdb.sqlite`;
    const db = await source.readFile(path, limits.maxDatabaseBytes);
    if (db !== undefined) {
      const wal = await source.readFile(`${path}-wal`, limits.maxDatabaseBytes);
      return { packages: await readSqlite(db, wal, path, os, limits), warnings };
    }
  }
  for (const dir of RPM_DIRS) {
    const names = (await source.list(dir)) ?? [];
    for (const [file, kind] of [
      ["Packages", "BerkeleyDB"],
      ["Packages.db", "ndb"],
    ] as const)
      if (names.includes(file))
        warnings.push(
          `${dir}/${file}: an rpm ${kind} database, which is not read (only rpmdb.sqlite is): its packages are not listed`,
        );
  }
  return { packages: [], warnings };
}
