// Catalogs a root filesystem: its OS identity, then every package database the catalogers know
// (dpkg, apk, rpm), into one Inventory sorted by type, name, arch and version. Works over any
// FileSource; `catalogLayers` reads an image's layers once, keeping only the files wanted here.
import { catalogApk, apkWants } from "./apk.ts";
import { dirSource } from "./dir-source.ts";
import { catalogDpkg, DEFAULT_LIMITS, dpkgWants, type CatalogLimits } from "./dpkg.ts";
import { layerSource, type LayerFile } from "./layer-source.ts";
import type { Inventory, Package } from "./model.ts";
import { OS_RELEASE_PATHS, readOsIdentity } from "./os-release.ts";
import { catalogRpm, rpmWants } from "./rpm.ts";
import type { FileSource } from "./source.ts";

/** True for every path a cataloger may read. */
export function catalogWants(path: string): boolean {
  return (
    (OS_RELEASE_PATHS as readonly string[]).includes(path) ||
    dpkgWants(path) ||
    apkWants(path) ||
    rpmWants(path)
  );
}

const order = (a: string | undefined, b: string | undefined): number =>
  (a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0;

export function sortPackages(packages: readonly Package[]): Package[] {
  return [...packages].sort(
    (a, b) =>
      order(a.type, b.type) || order(a.name, b.name) || order(a.arch, b.arch) || order(a.version, b.version),
  );
}

export async function catalog(source: FileSource, limits: Partial<CatalogLimits> = {}): Promise<Inventory> {
  const all: CatalogLimits = { ...DEFAULT_LIMITS, ...limits };
  const os = await readOsIdentity(source);
  const deb = await catalogDpkg(source, os, all);
  const apk = await catalogApk(source, os, all);
  const rpm = await catalogRpm(source, os, all);
  const warnings = [...rpm.warnings];
  return {
    ...(os === undefined ? {} : { os }),
    packages: sortPackages([...deb, ...apk, ...rpm.packages]),
    ...(warnings.length === 0 ? {} : { warnings }),
  };
}

/** The inventory of a root filesystem in a directory. */
export function catalogDirectory(root: string, limits: Partial<CatalogLimits> = {}): Promise<Inventory> {
  return catalog(dirSource(root), limits);
}

/** The inventory of an image from its layers (bottom first), read once without unpacking. */
export async function catalogLayers(
  layers: readonly LayerFile[],
  options: { readonly name?: string; readonly limits?: Partial<CatalogLimits> } = {},
): Promise<Inventory> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const source = await layerSource(layers, {
    wanted: catalogWants,
    maxFileBytes: limits.maxDatabaseBytes,
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  return catalog(source, limits);
}
