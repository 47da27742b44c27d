// The neutral package model every SBOM format is written from and every package diff reads:
// what a root filesystem's package databases say is installed, and which OS it is.

/** The package database a package was found in. */
export type PackageType = "deb" | "apk" | "rpm";

export interface Package {
  readonly type: PackageType;
  readonly name: string;
  /** The full version as the database spells it (deb: [epoch:]upstream[-revision]; rpm: [epoch:]version-release). */
  readonly version: string;
  /** The architecture as the database spells it (amd64, x86_64, noarch, all…), when it names one. */
  readonly arch?: string;
  /** The source package it was built from, when that differs or is declared. */
  readonly source?: { readonly name: string; readonly version?: string };
  /** Package URL, e.g. pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&distro=debian-12 */
  readonly purl: string;
  /** License expressions or names the package declares (SPDX ids where they can be told). */
  readonly licenses: readonly string[];
  /** Installed size in bytes, when the database records it. */
  readonly installedSize?: number;
  readonly maintainer?: string;
  readonly description?: string;
}

/** The OS identity from os-release. */
export interface OsIdentity {
  /** ID, e.g. "debian", "alpine", "fedora". */
  readonly id: string;
  /** VERSION_ID, e.g. "12", "3.20.3". */
  readonly versionId?: string;
  readonly prettyName?: string;
  readonly versionCodename?: string;
  readonly idLike?: readonly string[];
}

/** What a root filesystem holds: its OS and its packages, sorted by type, name, arch, version. */
export interface Inventory {
  readonly os?: OsIdentity;
  readonly packages: readonly Package[];
  /** What the catalogers saw and could not read (e.g. an rpm BerkeleyDB database), for people. */
  readonly warnings?: readonly string[];
}
