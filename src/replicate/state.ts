// The pure rules of a copy's state: when a failed copy is tried again, the lifecycle of a version
// as it is mirrored to a Strata site, and the step that brings the site's lifecycle to the
// source's.

export interface BackoffOptions {
  /** ms before the first retry. */
  readonly backoff: number;
  /** The longest wait between two attempts. */
  readonly maxBackoff: number;
}

/** ms to wait after the `attempts`-th failed attempt (1 = the first): doubling, capped. */
export function retryDelay(attempts: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  return Math.min(options.backoff * 2 ** exponent, options.maxBackoff);
}

/** A version's lifecycle as the source holds it (its stored state, not the computed EOL). */
export interface SourceLifecycle {
  readonly state: "published" | "deprecated" | "revoked" | "deleted";
  readonly deprecation?: { readonly reason?: string; readonly replacement?: string };
  readonly revokeReason?: string;
}

/** What to ask of a Strata site next so its version's state follows the source's; undefined: nothing. */
export type LifecycleStep =
  | { readonly action: "deprecate"; readonly reason?: string; readonly replacement?: string }
  | { readonly action: "revoke"; readonly reason: string }
  | { readonly action: "delete" }
  | { readonly action: "restore" };

/**
 * The next step from the site's state (as its API shows it: end-of-life counts as published)
 * towards the source's. A revoked version cannot come back and the API has no undeprecation, so
 * a site further along than the source is left as it is.
 */
export function lifecycleStep(source: SourceLifecycle, site: string): LifecycleStep | undefined {
  const at = site === "end-of-life" ? "published" : site;
  if (source.state === "deleted") return at === "deleted" ? undefined : { action: "delete" };
  if (at === "deleted") return { action: "restore" };
  if (source.state === "revoked")
    return at === "revoked" ? undefined : { action: "revoke", reason: source.revokeReason ?? "revoked" };
  if (source.state === "deprecated" && at === "published")
    return {
      action: "deprecate",
      ...(source.deprecation?.reason === undefined ? {} : { reason: source.deprecation.reason }),
      ...(source.deprecation?.replacement === undefined
        ? {}
        : { replacement: source.deprecation.replacement }),
    };
  return undefined;
}

/** The lifecycle of a version row, and its fingerprint to compare with the one last mirrored. */
export function sourceLifecycle(row: {
  state: string;
  deprecation: string | null;
  revoke_reason: string | null;
}): { lifecycle: SourceLifecycle; fingerprint: string } {
  const state = (
    ["published", "deprecated", "revoked", "deleted"].includes(row.state) ? row.state : "published"
  ) as SourceLifecycle["state"];
  let deprecation: SourceLifecycle["deprecation"];
  if (row.deprecation !== null) {
    try {
      const parsed = JSON.parse(row.deprecation) as { reason?: unknown; replacement?: unknown };
      deprecation = {
        ...(typeof parsed.reason === "string" ? { reason: parsed.reason } : {}),
        ...(typeof parsed.replacement === "string" ? { replacement: parsed.replacement } : {}),
      };
    } catch {
      deprecation = {};
    }
  }
  const lifecycle: SourceLifecycle = {
    state,
    ...(deprecation === undefined ? {} : { deprecation }),
    ...(row.revoke_reason === null ? {} : { revokeReason: row.revoke_reason }),
  };
  return { lifecycle, fingerprint: JSON.stringify(lifecycle) };
}
