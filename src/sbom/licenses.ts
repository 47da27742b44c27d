// Licenses as packages declare them, told apart into SPDX identifiers where that is clean.
// Debian's machine-readable copyright files (DEP-5) use their own short names (GPL-2+, Expat,
// BSD-3-clause…): `dep5ToSpdx` maps the ones that have an exact SPDX counterpart, and keeps an
// expression's `or`/`and` as SPDX's OR/AND when every name in it maps. A name that does not map
// (public-domain, a project's own "other" license, a typo) is kept as the package wrote it; the
// writers put it in an SPDX LicenseRef or a CycloneDX license name, never a made-up id.
import { SPDX } from "@cyclonedx/cyclonedx-library";

/** DEP-5 short names (lowercased, without a trailing `+`) → the SPDX stem. */
const DEP5: Readonly<Record<string, { only: string; later: string } | string>> = {
  "gpl-1": { only: "GPL-1.0-only", later: "GPL-1.0-or-later" },
  "gpl-2": { only: "GPL-2.0-only", later: "GPL-2.0-or-later" },
  "gpl-3": { only: "GPL-3.0-only", later: "GPL-3.0-or-later" },
  "lgpl-2": { only: "LGPL-2.0-only", later: "LGPL-2.0-or-later" },
  "lgpl-2.1": { only: "LGPL-2.1-only", later: "LGPL-2.1-or-later" },
  "lgpl-3": { only: "LGPL-3.0-only", later: "LGPL-3.0-or-later" },
  "agpl-3": { only: "AGPL-3.0-only", later: "AGPL-3.0-or-later" },
  "gfdl-1.1": { only: "GFDL-1.1-only", later: "GFDL-1.1-or-later" },
  "gfdl-1.2": { only: "GFDL-1.2-only", later: "GFDL-1.2-or-later" },
  "gfdl-1.3": { only: "GFDL-1.3-only", later: "GFDL-1.3-or-later" },
  "apache-1.0": "Apache-1.0",
  "apache-1.1": "Apache-1.1",
  "apache-2.0": "Apache-2.0",
  "artistic-1.0": "Artistic-1.0",
  "artistic-2.0": "Artistic-2.0",
  "bsd-2-clause": "BSD-2-Clause",
  "bsd-3-clause": "BSD-3-Clause",
  "bsd-4-clause": "BSD-4-Clause",
  "bsl-1.0": "BSL-1.0",
  "cc0-1.0": "CC0-1.0",
  "cc-by-3.0": "CC-BY-3.0",
  "cc-by-4.0": "CC-BY-4.0",
  "cc-by-sa-3.0": "CC-BY-SA-3.0",
  "cc-by-sa-4.0": "CC-BY-SA-4.0",
  "epl-1.0": "EPL-1.0",
  "epl-2.0": "EPL-2.0",
  expat: "MIT",
  mit: "MIT",
  isc: "ISC",
  "mpl-1.1": "MPL-1.1",
  "mpl-2.0": "MPL-2.0",
  openssl: "OpenSSL",
  "python-2.0": "Python-2.0",
  "psf-2": "PSF-2.0",
  zlib: "Zlib",
  "zope-2.1": "ZPL-2.1",
  x11: "X11",
  curl: "curl",
  "unicode-dfs-2016": "Unicode-DFS-2016",
  "ofl-1.1": "OFL-1.1",
  sleepycat: "Sleepycat",
  wtfpl: "WTFPL",
  "0bsd": "0BSD",
};

/** One DEP-5 short name as an SPDX id, or undefined when it has no exact counterpart. */
export function dep5Name(name: string): string | undefined {
  const lower = name.trim().toLowerCase();
  const later = lower.endsWith("+");
  const stem = later ? lower.slice(0, -1) : lower;
  const hit = DEP5[stem] ?? DEP5[stem.replace(/\.0$/, "")] ?? DEP5[`${stem}.0`];
  if (hit === undefined) return undefined;
  if (typeof hit !== "string") return later ? hit.later : hit.only;
  // A `+` on a license SPDX has no -or-later form for: SPDX's own `+` operator.
  return later ? `${hit}+` : hit;
}

/**
 * A DEP-5 `License:` synopsis (`GPL-2+ or Artistic-1.0`, `BSD-3-clause, and MIT`) as an SPDX
 * expression when every name maps, else the synopsis as written.
 */
export function dep5ToSpdx(synopsis: string): string {
  const words = synopsis
    .replace(/,/g, " ")
    .split(/\s+/)
    .filter((w) => w !== "");
  const out: string[] = [];
  for (const word of words) {
    const lower = word.toLowerCase();
    if (lower === "or" || lower === "and") {
      if (out.length === 0 || out[out.length - 1] === "OR" || out[out.length - 1] === "AND") return synopsis;
      out.push(lower.toUpperCase());
      continue;
    }
    const id = dep5Name(word);
    if (id === undefined) return synopsis;
    out.push(id);
  }
  const last = out[out.length - 1];
  if (out.length === 0 || last === "OR" || last === "AND") return synopsis;
  return out.join(" ");
}

const ID = /^[A-Za-z0-9][A-Za-z0-9.-]*\+?$/;

/** True when `license` is an SPDX id the SPDX license list knows (an `+` suffix allowed). */
export function isSpdxId(license: string): boolean {
  return ID.test(license) && SPDX.isSupportedSpdxId(license.replace(/\+$/, ""));
}

/**
 * True when `license` is an SPDX expression of known ids joined by AND and OR (with
 * parentheses): what may go in licenseDeclared or a CycloneDX expression as it is.
 */
export function isSpdxExpression(license: string): boolean {
  const tokens = license
    .replace(/[()]/g, " ")
    .split(/\s+/)
    .filter((t) => t !== "");
  if (tokens.length === 0) return false;
  let expectId = true;
  for (const token of tokens) {
    if (expectId) {
      if (!isSpdxId(token)) return false;
    } else if (token !== "AND" && token !== "OR") return false;
    expectId = !expectId;
  }
  let depth = 0;
  for (const c of license) {
    depth += c === "(" ? 1 : c === ")" ? -1 : 0;
    if (depth < 0) return false;
  }
  return !expectId && depth === 0;
}
