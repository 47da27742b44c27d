// Version ordering per package ecosystem: Debian's (dpkg), RPM's (rpmvercmp) and Alpine's (apk).
import type { PackageType } from "../sbom/index.ts";
import { compareApkVersions } from "./version-apk.ts";
import { compareDebVersions } from "./version-deb.ts";
import { compareRpmVersions } from "./version-rpm.ts";

export { compareApkVersions, compareDebVersions, compareRpmVersions };

/** Orders two versions of a package of `type` as its package manager does: -1, 0 or 1. */
export function compareVersions(type: PackageType, a: string, b: string): number {
  switch (type) {
    case "deb":
      return compareDebVersions(a, b);
    case "rpm":
      return compareRpmVersions(a, b);
    case "apk":
      return compareApkVersions(a, b);
  }
}
