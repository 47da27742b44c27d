// Sizes in configuration: bytes as a number, or a number with a unit — binary KiB, MiB, GiB,
// TiB (powers of 1024) or decimal KB, MB, GB, TB (powers of 1000), B for bytes, and the single
// letters k, m, g, t as binary units (as `docker run --memory 64m` reads them); units are
// case-insensitive and may follow a space.

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
const SIZE_RE = /^(\d+(?:\.\d+)?) ?([a-z]*)$/i;

/** Bytes of `value` ("4MiB", "512KiB", "1GB", 4096, "4096"), or undefined when it is not a size. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE_RE.exec(value.trim());
  if (m === null) return undefined;
  const unit = UNITS[(m[2] ?? "").toLowerCase() || "b"];
  if (unit === undefined) return undefined;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
