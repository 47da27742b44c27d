// Image version numbers: Major.Minor.Patch, each a non-negative integer without leading zeros
// (as in Azure Compute Gallery). No pre-release or build suffix: a version is a release.
import { GalleryError, q } from "./errors.ts";

export interface VersionNumber {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const VERSION_RE = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

export function isVersionNumber(text: string): boolean {
  return VERSION_RE.test(text);
}

export function parseVersionNumber(text: string): VersionNumber {
  const m = VERSION_RE.exec(text);
  if (m === null) {
    throw new GalleryError(
      "INVALID",
      `Invalid version ${q(text)}: expected Major.Minor.Patch, three non-negative integers without leading zeros (e.g. "1.4.2")`,
      { detail: { version: text.slice(0, 100) } },
    );
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function compareVersions(a: VersionNumber, b: VersionNumber): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion(v: VersionNumber): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}
