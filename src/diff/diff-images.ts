// diffImages: what changed between two images (or two disks, through the images they were built
// from) — packages, files and config — as one JSON-serialisable value, the same one the CLI
// prints with --json and the gallery stores as a referrer.
import type { Inventory } from "../sbom/index.ts";
import { configUnchanged, diffConfigs, type ConfigDiff } from "./config.ts";
import { diffFiles, type FileDiff } from "./files.ts";
import { flattenPair } from "./flatten.ts";
import { resolveImage, type ContentSource, type PlatformWanted, type ResolvedImage } from "./image-source.ts";
import { diffPackages, type PackageDiff } from "./packages.ts";
import { findSbom } from "./sbom-referrer.ts";

export const DIFF_SCHEMA_VERSION = 1;

/** One side of a diff: a reference (tag or digest) at a source. */
export interface DiffSide {
  readonly source: ContentSource;
  readonly reference: string;
  /** How to show it (default the reference). */
  readonly name?: string;
}

/** Packages of an image without an SBOM attached (a cataloger over its root); undefined: unknown. */
export type InventoryOf = (image: ResolvedImage) => Promise<Inventory | undefined>;

export interface DiffOptions {
  /** Sections to compute (default all three). */
  readonly sections?: { readonly packages?: boolean; readonly files?: boolean; readonly config?: boolean };
  /** Most paths listed per file list (added, removed, changed); totals are always exact. */
  readonly maxFiles?: number;
  /** Packages of an image that has no SBOM referrer. */
  readonly inventoryOf?: InventoryOf;
  /** The platform taken from an index (default this machine's). */
  readonly platform?: PlatformWanted;
  /** Limits on each layer: uncompressed bytes and entries. */
  readonly maxLayerBytes?: number;
  readonly maxLayerEntries?: number;
}

export interface ImageSummary {
  readonly name: string;
  /** The image manifest's digest (for a disk, its source image's). */
  readonly digest: string;
  readonly platform?: string;
  readonly layers: number;
  /** The disk artifact's digest, when the reference named a disk. */
  readonly disk?: string;
  /** Where its packages came from: the SBOM referrer's digest, "cataloged", or absent. */
  readonly packagesFrom?: string;
}

export type PackageSection =
  ({ readonly available: true } & PackageDiff) | { readonly available: false; readonly note: string };

export interface ImageDiff {
  readonly schemaVersion: typeof DIFF_SCHEMA_VERSION;
  readonly before: ImageSummary;
  readonly after: ImageSummary;
  /** True when both name the same image manifest (nothing can differ). */
  readonly sameImage: boolean;
  /** When either side is a disk: whether the two disks are the same artifact. */
  readonly disk?: { readonly before?: string; readonly after?: string; readonly same: boolean };
  readonly packages?: PackageSection;
  readonly files?: FileDiff & { readonly sharedLayers: number };
  readonly config?: ConfigDiff & { readonly unchanged: boolean };
}

async function packagesOf(
  image: ResolvedImage,
  inventoryOf: InventoryOf | undefined,
): Promise<{ inventory: Inventory; from: string } | undefined> {
  const sbom = await findSbom(image.source, image.digest);
  if (sbom !== undefined) return { inventory: sbom.inventory, from: sbom.digest };
  const inventory = await inventoryOf?.(image);
  return inventory === undefined ? undefined : { inventory, from: "cataloged" };
}

function summary(image: ResolvedImage, packagesFrom: string | undefined): ImageSummary {
  const c = image.config;
  return {
    name: image.name,
    digest: image.digest,
    ...(c.os === undefined && c.architecture === undefined
      ? {}
      : {
          platform: `${c.os ?? "?"}/${c.architecture ?? "?"}${c.variant === undefined ? "" : `/${c.variant}`}`,
        }),
    layers: image.layers.length,
    ...(image.disk === undefined ? {} : { disk: image.disk.digest }),
    ...(packagesFrom === undefined ? {} : { packagesFrom }),
  };
}

/** What changed from `before` to `after`. */
export async function diffImages(
  before: DiffSide,
  after: DiffSide,
  options: DiffOptions = {},
): Promise<ImageDiff> {
  const platform = options.platform === undefined ? {} : { platform: options.platform };
  const a = await resolveImage(before.source, before.reference, {
    name: before.name ?? before.reference,
    ...platform,
  });
  const b = await resolveImage(after.source, after.reference, {
    name: after.name ?? after.reference,
    ...platform,
  });
  const want = {
    packages: options.sections?.packages ?? true,
    files: options.sections?.files ?? true,
    config: options.sections?.config ?? true,
  };
  let packages: PackageSection | undefined;
  let fromA: string | undefined;
  let fromB: string | undefined;
  if (want.packages) {
    const pa = await packagesOf(a, options.inventoryOf);
    const pb = await packagesOf(b, options.inventoryOf);
    fromA = pa?.from;
    fromB = pb?.from;
    if (pa !== undefined && pb !== undefined)
      packages = { available: true, ...diffPackages(pa.inventory, pb.inventory) };
    else {
      const missing = [pa === undefined ? a.name : undefined, pb === undefined ? b.name : undefined].filter(
        (n): n is string => n !== undefined,
      );
      packages = {
        available: false,
        note: `No package information for ${missing.map((n) => `"${n}"`).join(" and ")}: no SBOM is attached to ${missing.length > 1 ? "them" : "it"} and no cataloger read ${missing.length > 1 ? "them" : "it"}`,
      };
    }
  }
  let files: ImageDiff["files"];
  if (want.files) {
    const pair = await flattenPair(a, b, {
      ...(options.maxLayerBytes === undefined ? {} : { maxBytes: options.maxLayerBytes }),
      ...(options.maxLayerEntries === undefined ? {} : { maxEntries: options.maxLayerEntries }),
    });
    files = {
      ...diffFiles(pair.before, pair.after, options.maxFiles ?? Infinity),
      sharedLayers: pair.sharedLayers,
    };
  }
  let config: ImageDiff["config"];
  if (want.config) {
    const d = diffConfigs(a.config, b.config);
    config = { ...d, unchanged: configUnchanged(d) };
  }
  const diskA = a.disk?.digest;
  const diskB = b.disk?.digest;
  return {
    schemaVersion: DIFF_SCHEMA_VERSION,
    before: summary(a, fromA),
    after: summary(b, fromB),
    sameImage: a.digest === b.digest,
    ...(diskA === undefined && diskB === undefined
      ? {}
      : {
          disk: {
            ...(diskA === undefined ? {} : { before: diskA }),
            ...(diskB === undefined ? {} : { after: diskB }),
            same: diskA === diskB,
          },
        }),
    ...(packages === undefined ? {} : { packages }),
    ...(files === undefined ? {} : { files }),
    ...(config === undefined ? {} : { config }),
  };
}
