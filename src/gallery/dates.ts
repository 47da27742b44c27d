// Dates in requests: "2027-06-30" (midnight UTC) or an RFC 3339 date-time with an offset.
import { GalleryError, q } from "./errors.ts";

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

export function parseDate(field: string, value: string): number {
  const ms = DATE_RE.test(value)
    ? Date.parse(`${value}T00:00:00Z`)
    : DATE_TIME_RE.test(value)
      ? Date.parse(value)
      : Number.NaN;
  // Date.parse rolls 2027-02-30 over into March; a real date formats back to itself.
  if (Number.isNaN(ms) || (DATE_RE.test(value) && new Date(ms).toISOString().slice(0, 10) !== value)) {
    throw new GalleryError(
      "INVALID",
      `Invalid ${field} ${q(value)}: expected a date (2027-06-30) or an RFC 3339 date-time (2027-06-30T12:00:00Z)`,
      { detail: { field, value: value.slice(0, 100) } },
    );
  }
  return ms;
}

export function parseFutureDate(field: string, value: string, now: number): number {
  const ms = parseDate(field, value);
  if (ms <= now) {
    throw new GalleryError("INVALID", `Invalid ${field} ${q(value)}: the date is in the past`, {
      detail: { field, value },
    });
  }
  return ms;
}
