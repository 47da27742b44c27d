// Debian version ordering, as dpkg orders versions (deb-version(7)): `[epoch:]upstream[-revision]`,
// the epoch compared as a number, then the upstream version, then the revision (absent = ""), each
// with the same string comparison: alternating runs of non-digits and digits; non-digit runs
// compared character by character where `~` sorts before everything (even the end of the
// string), then the end, then letters, then every other character (by its code); digit runs
// compared as numbers (leading zeros ignored, an empty run is 0).

interface DebVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/** Splits a version into epoch, upstream and revision, as dpkg reads them. */
export function parseDebVersion(version: string): DebVersion {
  const text = version.trim();
  const colon = text.indexOf(":");
  let epoch = 0;
  let rest = text;
  if (colon >= 0) {
    const digits = text.slice(0, colon);
    epoch = /^\d+$/.test(digits) ? Number(digits) : 0;
    rest = text.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf("-");
  return hyphen < 0
    ? { epoch, upstream: rest, revision: "" }
    : { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** The weight of one character of a non-digit run; NaN (past the end) weighs as the end. */
function weight(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (c === 126) return -1; // "~"
  if (isLetter(c)) return c;
  return c + 256;
}

/** dpkg's comparison of one part (upstream or revision): negative, zero or positive. */
export function compareDebPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // A run of non-digits on either side.
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const wa = weight(a.charCodeAt(i));
      const wb = weight(b.charCodeAt(j));
      if (wa !== wb) return wa - wb;
      i++;
      j++;
    }
    // A run of digits on both sides (possibly empty), compared as numbers.
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    let firstDifference = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDifference === 0) firstDifference = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (firstDifference !== 0) return firstDifference;
  }
  return 0;
}

/** Orders two Debian versions as `dpkg --compare-versions` does: -1, 0 or 1. */
export function compareDebVersions(a: string, b: string): number {
  const va = parseDebVersion(a);
  const vb = parseDebVersion(b);
  const order =
    va.epoch - vb.epoch ||
    compareDebPart(va.upstream, vb.upstream) ||
    compareDebPart(va.revision, vb.revision);
  return Math.sign(order);
}
