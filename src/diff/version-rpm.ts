// RPM version ordering, as rpm orders EVRs (rpmvercmp and rpmVersionCompare):
// `[epoch:]version[-release]`, the epoch compared as a number (absent = 0), then the version,
// then the release (absent = ""), each with rpmvercmp:
// - identical strings are equal;
// - both strings are walked segment by segment; characters other than ASCII letters, digits,
//   `~` and `^` only separate segments (so `1.0` = `1_0` = `1+0`);
// - `~` sorts before everything, the end of the string included (`1.0~rc1` < `1.0`);
// - `^` sorts after the end of the string but before anything else (`1.0` < `1.0^git1` < `1.0.1`);
// - a segment is a run of digits or a run of letters; a numeric segment is newer than an alphabetic
//   one; numbers compare by value (leading zeros ignored), letters by byte order;
// - when one string runs out, the one with segments left is newer, unless only separators were
//   left (then they are equal).

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const TILDE = 126;
const CARET = 94;

/** rpmvercmp: -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const skip = (s: string, k: number): number => {
    while (k < s.length) {
      const c = s.charCodeAt(k);
      if (isDigit(c) || isLetter(c) || c === TILDE || c === CARET) break;
      k++;
    }
    return k;
  };
  for (;;) {
    i = skip(a, i);
    j = skip(b, j);
    const ca = i < a.length ? a.charCodeAt(i) : NaN;
    const cb = j < b.length ? b.charCodeAt(j) : NaN;
    if (Number.isNaN(ca) && Number.isNaN(cb)) return 0;
    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CARET || cb === CARET) {
      if (Number.isNaN(ca)) return -1;
      if (Number.isNaN(cb)) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (Number.isNaN(ca)) return -1;
    if (Number.isNaN(cb)) return 1;
    const numeric = isDigit(ca);
    const inSegment = numeric ? isDigit : isLetter;
    let ei = i;
    while (ei < a.length && inSegment(a.charCodeAt(ei))) ei++;
    let ej = j;
    while (ej < b.length && inSegment(b.charCodeAt(ej))) ej++;
    // b's segment is of the other kind (empty of this kind): a number beats letters.
    if (ej === j) return numeric ? 1 : -1;
    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, "");
      sb = sb.replace(/^0+/, "");
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa > sb ? 1 : -1;
    i = ei;
    j = ej;
  }
}

interface Evr {
  readonly epoch: number;
  readonly version: string;
  readonly release: string;
}

/** `[epoch:]version[-release]`. */
export function parseEvr(text: string): Evr {
  const colon = text.indexOf(":");
  const epochText = colon < 0 ? "" : text.slice(0, colon);
  const rest = colon < 0 ? text : text.slice(colon + 1);
  const hyphen = rest.lastIndexOf("-");
  return {
    epoch: /^\d+$/.test(epochText) ? Number(epochText) : 0,
    version: hyphen < 0 ? rest : rest.slice(0, hyphen),
    release: hyphen < 0 ? "" : rest.slice(hyphen + 1),
  };
}

/** Orders two RPM EVRs: -1, 0 or 1. */
export function compareRpmVersions(a: string, b: string): number {
  const ea = parseEvr(a);
  const eb = parseEvr(b);
  if (ea.epoch !== eb.epoch) return ea.epoch > eb.epoch ? 1 : -1;
  return rpmvercmp(ea.version, eb.version) || rpmvercmp(ea.release, eb.release);
}
