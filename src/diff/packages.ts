// The package diff: two inventories → packages added, removed, upgraded, downgraded and changed
// (same version, another architecture or source), and the OS change. Packages are keyed by type,
// name and architecture, so co-installed architectures (libc6:amd64 and libc6:i386) stay apart;
// a package whose architecture changed (all → amd64) is paired with its old self when it is the
// only one of its name on each side. Versions are ordered by their package manager's rules.
import type { Inventory, OsIdentity, Package, PackageType } from "../sbom/index.ts";
import { compareVersions } from "./versions.ts";

/** A package as the diff lists it. */
export interface PackageEntry {
  readonly type: PackageType;
  readonly name: string;
  readonly version: string;
  readonly arch?: string;
}

/** A package on both sides whose version, architecture or source differs. */
export interface PackageChange {
  readonly type: PackageType;
  readonly name: string;
  readonly from: { readonly version: string; readonly arch?: string; readonly source?: string };
  readonly to: { readonly version: string; readonly arch?: string; readonly source?: string };
}

export interface OsChange {
  readonly from?: OsIdentity;
  readonly to?: OsIdentity;
}

export interface PackageDiff {
  readonly added: readonly PackageEntry[];
  readonly removed: readonly PackageEntry[];
  readonly upgraded: readonly PackageChange[];
  readonly downgraded: readonly PackageChange[];
  /** Same version (by the package manager's ordering), another architecture or source. */
  readonly changed: readonly PackageChange[];
  /** Packages the same on both sides. */
  readonly unchanged: number;
  /** Present when the OS identity (ID or VERSION_ID) differs. */
  readonly os?: OsChange;
}

const keyOf = (p: Package): string => `${p.type}\0${p.name}\0${p.arch ?? ""}`;
const nameKey = (p: Package): string => `${p.type}\0${p.name}`;

const sourceText = (p: Package): string | undefined =>
  p.source === undefined
    ? undefined
    : p.source.version === undefined
      ? p.source.name
      : `${p.source.name} ${p.source.version}`;

function entry(p: Package): PackageEntry {
  return {
    type: p.type,
    name: p.name,
    version: p.version,
    ...(p.arch === undefined ? {} : { arch: p.arch }),
  };
}

function side(p: Package): PackageChange["from"] {
  const source = sourceText(p);
  return {
    version: p.version,
    ...(p.arch === undefined ? {} : { arch: p.arch }),
    ...(source === undefined ? {} : { source }),
  };
}

const byName = (a: { type: string; name: string }, b: { type: string; name: string }): number =>
  a.type < b.type ? -1 : a.type > b.type ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function sameOs(a: OsIdentity | undefined, b: OsIdentity | undefined): boolean {
  return a?.id === b?.id && a?.versionId === b?.versionId;
}

/** What changed from `before` to `after`. */
export function diffPackages(before: Inventory, after: Inventory): PackageDiff {
  const old = new Map<string, Package>();
  for (const p of before.packages) old.set(keyOf(p), p);
  const added: Package[] = [];
  const pairs: [Package, Package][] = [];
  const seen = new Set<string>();
  for (const p of after.packages) {
    const key = keyOf(p);
    if (seen.has(key)) continue;
    seen.add(key);
    const was = old.get(key);
    if (was === undefined) added.push(p);
    else pairs.push([was, p]);
  }
  let removed = [...old.values()].filter((p) => !seen.has(keyOf(p)));
  // A package that only changed architecture: the one of its name on each side.
  const count = (list: readonly Package[]) => {
    const counts = new Map<string, number>();
    for (const p of list) counts.set(nameKey(p), (counts.get(nameKey(p)) ?? 0) + 1);
    return counts;
  };
  const addedCount = count(added);
  const removedCount = count(removed);
  const moved = new Set(
    [...addedCount].filter(([k, n]) => n === 1 && removedCount.get(k) === 1).map(([k]) => k),
  );
  for (const p of added.filter((a) => moved.has(nameKey(a)))) {
    const was = removed.find((r) => nameKey(r) === nameKey(p));
    if (was !== undefined) pairs.push([was, p]);
  }
  removed = removed.filter((p) => !moved.has(nameKey(p)));
  const upgraded: PackageChange[] = [];
  const downgraded: PackageChange[] = [];
  const changed: PackageChange[] = [];
  let unchanged = 0;
  for (const [was, now] of pairs) {
    const order = was.version === now.version ? 0 : compareVersions(now.type, was.version, now.version);
    const same = order === 0 && was.arch === now.arch && sourceText(was) === sourceText(now);
    if (same && was.version === now.version) {
      unchanged++;
      continue;
    }
    const change = { type: now.type, name: now.name, from: side(was), to: side(now) };
    if (order < 0) upgraded.push(change);
    else if (order > 0) downgraded.push(change);
    else changed.push(change);
  }
  return {
    added: added
      .filter((p) => !moved.has(nameKey(p)))
      .map(entry)
      .sort(byName),
    removed: removed.map(entry).sort(byName),
    upgraded: upgraded.sort(byName),
    downgraded: downgraded.sort(byName),
    changed: changed.sort(byName),
    unchanged,
    ...(sameOs(before.os, after.os)
      ? {}
      : {
          os: {
            ...(before.os === undefined ? {} : { from: before.os }),
            ...(after.os === undefined ? {} : { to: after.os }),
          },
        }),
  };
}
