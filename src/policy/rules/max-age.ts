// maxAge: the image was built (config `created`) no longer ago than a duration — the rebuild
// cadence. Durations are a whole number with a unit: `h` hours, `d` days, `w` weeks ("30d").
// An image without a creation time fails: its age cannot be shown to be within the limit.
import { ageInDays, unavailableReason, type ImageFacts } from "../facts.ts";
import type { Problems } from "../errors.ts";
import { describeKind, type CheckContext, type Rule } from "../rule.ts";

const UNIT_DAYS: Readonly<Record<string, number>> = { h: 1 / 24, d: 1, w: 7 };
const DURATION_RE = /^([1-9]\d{0,5})(h|d|w)$/;

/** Days of a policy duration ("30d", "12h", "2w"), or undefined when it is not one. */
export function parseAgeDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  return m === null ? undefined : Number(m[1]) * (UNIT_DAYS[m[2] ?? ""] ?? 0);
}

const days = (n: number): string => `${n} day${n === 1 ? "" : "s"}`;

export function readMaxAge(value: unknown, problems: Problems): Rule | undefined {
  const limit = typeof value === "string" ? parseAgeDuration(value) : undefined;
  if (limit === undefined)
    return problems.add([], `expected a duration such as "30d", "12h" or "2w", got ${describeKind(value)}`);
  const spelled = String(value).trim();
  return {
    name: "maxAge",
    check(facts: ImageFacts, context: CheckContext): string | undefined {
      const missing = unavailableReason(facts, "config");
      if (missing !== undefined) return `image config unavailable: ${missing}`;
      if (facts.created === undefined) return "the image records no creation time";
      const age = ageInDays(facts.created, context.now);
      if (age === undefined)
        return `the image's creation time ${JSON.stringify(facts.created)} is not a date`;
      if (age <= limit) return undefined;
      const shown = age >= 1 ? days(Math.floor(age)) : `${Math.floor(age * 24)} hours`;
      return `built ${shown} ago, more than ${limit >= 1 && Number.isInteger(limit) ? days(limit) : spelled}`;
    },
  };
}
