// The lifecycle rules, pure: the state of a version at a moment, the computed `latest`, and what
// a pull of a version gets in each enforcement mode.
import type { EnforcementMode, ImageVersion, VersionState } from "./model.ts";
import { compareVersions, parseVersionNumber } from "./semver.ts";

export interface LifecycleFacts {
  readonly storedState: "published" | "deprecated" | "revoked" | "deleted";
  /** Epoch ms of the end of life, if any. */
  readonly eol: number | null;
  /** Epoch ms a scheduled revocation takes effect, if any. */
  readonly revokeAt: number | null;
}

/** The state a reader sees at `now`: a due revocation or a passed EOL apply at once. */
export function effectiveState(facts: LifecycleFacts, now: number): VersionState {
  if (facts.storedState === "deleted" || facts.storedState === "revoked") return facts.storedState;
  if (facts.revokeAt !== null && facts.revokeAt <= now) return "revoked";
  if (facts.eol !== null && facts.eol <= now) return "end-of-life";
  return facts.storedState;
}

/** The highest published version not excluded from latest; undefined when there is none. */
export function computeLatest<V extends Pick<ImageVersion, "version" | "state" | "excludeFromLatest">>(
  versions: readonly V[],
): V | undefined {
  let best: V | undefined;
  for (const v of versions) {
    if (v.state !== "published" || v.excludeFromLatest) continue;
    if (
      best === undefined ||
      compareVersions(parseVersionNumber(v.version), parseVersionNumber(best.version)) > 0
    ) {
      best = v;
    }
  }
  return best;
}

export interface PullVerdict {
  readonly deny?: string;
  readonly warnings?: readonly string[];
}

/**
 * What a pull of `version` gets. Deprecated versions warn in every mode but `off`, naming the
 * replacement; revoked, end-of-life and deleted versions are refused in `enforce` and warned in
 * `warn`.
 */
export function pullVerdict(
  mode: EnforcementMode,
  version: Pick<
    ImageVersion,
    "gallery" | "image" | "version" | "state" | "deprecation" | "revocation" | "eol"
  >,
  replacement: string | undefined,
): PullVerdict {
  if (mode === "off") return {};
  const name = `${version.gallery}/${version.image}:${version.version}`;
  switch (version.state) {
    case "published":
      return {};
    case "deprecated": {
      const reason = version.deprecation?.reason;
      const use = version.deprecation?.replacement ?? replacement;
      return {
        warnings: [
          `${name} is deprecated${reason ? `: ${reason}` : ""}${use !== undefined ? `; use ${version.gallery}/${version.image}:${use}` : ""}`,
        ],
      };
    }
    case "revoked":
    case "end-of-life":
    case "deleted": {
      const why =
        version.state === "revoked"
          ? `${name} is revoked${version.revocation?.reason ? `: ${version.revocation.reason}` : ""}`
          : version.state === "end-of-life"
            ? `${name} reached its end of life on ${version.eol?.slice(0, 10) ?? "its EOL date"}`
            : `${name} is deleted`;
      const hint =
        replacement !== undefined ? `; use ${version.gallery}/${version.image}:${replacement}` : "";
      return mode === "enforce" ? { deny: `${why}${hint}` } : { warnings: [`${why}${hint}`] };
    }
  }
}
