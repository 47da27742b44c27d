// Retention, pure: from a definition's rules, its versions, what points at them or is built on
// them, their last pulls and the time, the versions to deprecate or delete and the versions a
// rule matched but a protection keeps. retention-run.ts loads the facts and applies the plan.
import { iso } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import { computeLatest, effectiveState } from "./lifecycle.ts";
import type { RetentionRules, StoredState, VersionState } from "./model.ts";
import { compareVersions, parseVersionNumber } from "./semver.ts";

const DAY = 86_400_000;

export const RETENTION_RULES = [
  "keepLast",
  "deprecateAfterDays",
  "deleteAfterEolDays",
  "deleteUnusedDays",
] as const;
export type RetentionRule = (typeof RETENTION_RULES)[number];

/** What one version brings to the plan. Times are epoch ms. */
export interface RetentionVersionFacts {
  readonly version: string;
  readonly digest: string;
  readonly storedState: StoredState;
  readonly eol: number | null;
  readonly revokeAt: number | null;
  readonly excludeFromLatest: boolean;
  readonly createdAt: number;
  /** The last pull at any site; null when never pulled. */
  readonly lastPullAt: number | null;
  /** The last restore after a deletion; null when never restored. */
  readonly restoredAt: number | null;
}

export interface RetentionFacts {
  readonly rules: RetentionRules;
  readonly now: number;
  /** Every version of the definition (deleted ones are never acted on). */
  readonly versions: readonly RetentionVersionFacts[];
  /** The definition's channels and the version each points at. */
  readonly channels: readonly { readonly name: string; readonly version: string | null }[];
  /** Versions (`gallery/image:version`, any gallery) whose base image digest is the key. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** Since when pulls are counted; null when they are not (the unused rule is then off). */
  readonly pullsSince: number | null;
  /** `gallery/image`, for naming versions in dependents. */
  readonly name: string;
}

export interface RetentionAction {
  readonly version: string;
  readonly action: "deprecate" | "delete";
  readonly rule: RetentionRule;
  /** The rule with its value, e.g. `keepLast 3`: the deprecation reason says `retention: keepLast 3`. */
  readonly ruleText: string;
  readonly reason: string;
}

/** A version a rule matched that stays: what protects it. */
export interface RetentionHold {
  readonly version: string;
  readonly action: "deprecate" | "delete";
  readonly rule: RetentionRule;
  readonly reason: string;
}

export interface RetentionPlan {
  /** Highest version first. */
  readonly actions: readonly RetentionAction[];
  readonly held: readonly RetentionHold[];
  /** Rules that could not be applied, and why. */
  readonly notes: readonly string[];
}

const MINIMUM: Readonly<Record<RetentionRule, number>> = {
  keepLast: 1,
  deprecateAfterDays: 1,
  deleteAfterEolDays: 0,
  deleteUnusedDays: 1,
};

/** Checks stored rules again (the API's schema checks them when they are set). */
export function checkRetentionRules(rules: RetentionRules): void {
  for (const rule of RETENTION_RULES) {
    const value: unknown = rules[rule];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < MINIMUM[rule]) {
      throw new GalleryError(
        "INVALID",
        `Invalid retention rule ${rule} ${q(value)}: expected an integer of at least ${MINIMUM[rule]}`,
        { detail: { rule, value: String(value).slice(0, 100) } },
      );
    }
  }
}

export const hasRetentionRules = (rules: RetentionRules | undefined): boolean =>
  rules !== undefined && RETENTION_RULES.some((rule) => rules[rule] !== undefined);

const ordinal = (n: number): string =>
  `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;
const day = (ms: number): string => iso(ms).slice(0, 10);
const daysSince = (now: number, ms: number): number => Math.floor((now - ms) / DAY);

interface Candidate {
  readonly action: "deprecate" | "delete";
  readonly rule: RetentionRule;
  readonly reason: string;
}

/**
 * The plan for one definition. Rules: `keepLast N` deprecates published versions beyond the
 * newest N by number; `deprecateAfterDays N` deprecates published versions published N days ago
 * or more; `deleteAfterEolDays N` deletes versions (any state) N days past their end of life;
 * `deleteUnusedDays N` deletes published, deprecated and end-of-life versions (not revoked ones)
 * neither pulled, published, restored nor counted for N days. A deletion wins over a deprecation
 * of the same version. A restore starts both delete rules afresh. Protected from every rule: a
 * version a channel points at and one another version is built on; from the unused rule also the
 * newest published version and `latest` (with none published, the newest deprecated one).
 */
export function planRetention(facts: RetentionFacts): RetentionPlan {
  checkRetentionRules(facts.rules);
  // One pass decides on the state before it; its deprecations can change what the next pass
  // decides (a deprecated newest version is no longer the newest published one), so passes
  // run until nothing new comes: the plan is then a fixed point, and applying it and planning
  // again finds nothing to do. Each pass only moves versions towards deleted, so this ends.
  const decided = new Map<string, RetentionAction>();
  let current = facts;
  let notes: readonly string[] | undefined;
  for (;;) {
    const pass = planPass(current);
    notes ??= pass.notes;
    if (pass.actions.length === 0) {
      const actions = [...decided.values()].sort((a, b) =>
        compareVersions(parseVersionNumber(b.version), parseVersionNumber(a.version)),
      );
      return { actions, held: pass.held, notes };
    }
    for (const action of pass.actions) {
      const earlier = decided.get(action.version);
      if (earlier === undefined || action.action === "delete") decided.set(action.version, action);
    }
    current = {
      ...current,
      versions: current.versions.map((v) => {
        const action = pass.actions.find((a) => a.version === v.version);
        if (action === undefined) return v;
        return { ...v, storedState: action.action === "deprecate" ? "deprecated" : "deleted" };
      }),
    };
  }
}

/** One pass over the versions as they are. */
function planPass(facts: RetentionFacts): RetentionPlan {
  const { rules, now } = facts;
  const notes: string[] = [];
  const versions = facts.versions
    .map((v) => ({
      ...v,
      number: parseVersionNumber(v.version),
      state: effectiveState(v, now) as VersionState,
    }))
    .filter((v) => v.state !== "deleted")
    .sort((a, b) => compareVersions(b.number, a.number));
  const published = versions.filter((v) => v.state === "published");
  const unusedKept = new Set<string>();
  const newest = published[0] ?? versions.find((v) => v.state === "deprecated");
  if (newest !== undefined) unusedKept.add(newest.version);
  const latest = computeLatest(published);
  if (latest !== undefined) unusedKept.add(latest.version);
  if (rules.deleteUnusedDays !== undefined && facts.pullsSince === null)
    notes.push("deleteUnusedDays is not applied: this server does not count pulls (usage.enabled is false)");

  const actions: RetentionAction[] = [];
  const held: RetentionHold[] = [];
  const text = (rule: RetentionRule): string => `${rule} ${rules[rule] ?? ""}`;
  for (const v of versions) {
    const deletions: Candidate[] = [];
    let unusedHold: RetentionHold | undefined;
    const eolDays = rules.deleteAfterEolDays;
    if (eolDays !== undefined && v.eol !== null && v.eol <= now) {
      const restored = v.restoredAt !== null && v.restoredAt > v.eol;
      const start = restored ? (v.restoredAt ?? v.eol) : v.eol;
      if (now - start >= eolDays * DAY) {
        const since = restored
          ? `restored ${day(start)} after its end of life ${day(v.eol)}`
          : `end of life ${day(v.eol)}`;
        deletions.push({
          action: "delete",
          rule: "deleteAfterEolDays",
          reason: `${since}, ${daysSince(now, start)} days ago; grace ${eolDays} days`,
        });
      }
    }
    const unusedDays = rules.deleteUnusedDays;
    if (
      unusedDays !== undefined &&
      facts.pullsSince !== null &&
      (v.state === "published" || v.state === "deprecated" || v.state === "end-of-life")
    ) {
      // The unused time runs from the latest of publication, the start of pull counting, the
      // last pull and the last restore.
      const starts: [number, string][] = [
        [v.createdAt, `never pulled; published ${day(v.createdAt)}`],
        [facts.pullsSince, `never pulled since pulls are counted (${day(facts.pullsSince)})`],
      ];
      if (v.lastPullAt !== null) starts.push([v.lastPullAt, `last pulled ${day(v.lastPullAt)}`]);
      if (v.restoredAt !== null) starts.push([v.restoredAt, `restored ${day(v.restoredAt)}`]);
      const [start, since] = starts.reduce((a, b) => (b[0] > a[0] ? b : a));
      if (now - start >= unusedDays * DAY) {
        if (unusedKept.has(v.version)) {
          unusedHold = {
            version: v.version,
            action: "delete",
            rule: "deleteUnusedDays",
            reason:
              v.state !== "published"
                ? "it is the newest version still served (none is published)"
                : v.version === latest?.version
                  ? "it is the latest version"
                  : "it is the newest published version",
          };
        } else {
          deletions.push({
            action: "delete",
            rule: "deleteUnusedDays",
            reason: `${since}, ${daysSince(now, start)} days ago; limit ${unusedDays} days`,
          });
        }
      }
    }
    let deprecation: Candidate | undefined;
    if (v.state === "published") {
      const rank = published.indexOf(v);
      if (rules.keepLast !== undefined && rank >= rules.keepLast) {
        deprecation = {
          action: "deprecate",
          rule: "keepLast",
          reason: `${ordinal(rank + 1)} newest published version; the newest ${rules.keepLast} are kept`,
        };
      } else if (
        rules.deprecateAfterDays !== undefined &&
        now - v.createdAt >= rules.deprecateAfterDays * DAY
      ) {
        deprecation = {
          action: "deprecate",
          rule: "deprecateAfterDays",
          reason: `published ${day(v.createdAt)}, ${daysSince(now, v.createdAt)} days ago; limit ${rules.deprecateAfterDays} days`,
        };
      }
    }
    const chosen = deletions[0] ?? deprecation;
    if (chosen === undefined) {
      if (unusedHold !== undefined) held.push(unusedHold);
      continue;
    }
    const protections = [
      ...facts.channels
        .filter((c) => c.version === v.version)
        .map((c) => `channel ${q(c.name)} points at it`),
      ...(facts.dependents.get(v.digest) ?? [])
        .filter((name) => name !== `${facts.name}:${v.version}`)
        .map((name) => `${name} is built on it`),
    ];
    if (protections.length > 0) {
      held.push({
        version: v.version,
        action: chosen.action,
        rule: chosen.rule,
        reason: protections.join("; "),
      });
      continue;
    }
    actions.push({ version: v.version, ...chosen, ruleText: text(chosen.rule) });
    if (unusedHold !== undefined) held.push(unusedHold);
  }
  return { actions, held, notes };
}
