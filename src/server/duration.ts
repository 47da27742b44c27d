// Durations in configuration: a number with a unit, or several as in "1h30m". Units: ms, s, m,
// h, d. Parsed to milliseconds.

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Milliseconds of `text` ("90s", "5m", "24h", "7d", "1h30m"), or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) return undefined;
  let ms = 0;
  for (const [, value, unit] of trimmed.matchAll(PART_RE)) ms += Number(value) * (UNITS[unit ?? ""] ?? 0);
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
}

/** The shortest exact spelling of `ms` in one unit, e.g. 90000 → "90s", 86400000 → "1d". */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    const size = UNITS[unit] ?? 1;
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
