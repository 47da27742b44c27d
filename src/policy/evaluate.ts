// Evaluation: every policy in scope at a point checks every one of its rules against the facts.
// The outcome is the strictest mode among the policies that failed: deny when an `enforce` policy
// failed, warn when a `warn` policy failed, otherwise allow — `audit` failures allow but stay in
// the decision, to be recorded. Pure: the clock is an option.
import type { ImageFacts, PolicyPoint } from "./facts.ts";
import type { Policy, PolicyMode } from "./policy.ts";

export type Outcome = "allow" | "warn" | "deny";

export interface RuleFailure {
  readonly policy: string;
  readonly mode: PolicyMode;
  readonly rule: string;
  readonly reason: string;
}

export interface PolicyDecision {
  readonly policy: string;
  readonly mode: PolicyMode;
  readonly allowed: boolean;
  /** The failed rules with their reasons; empty when allowed. */
  readonly failures: readonly { readonly rule: string; readonly reason: string }[];
}

export interface Decision {
  readonly outcome: Outcome;
  readonly point: PolicyPoint;
  readonly reference: string;
  readonly digest: string;
  /** One entry per policy in scope, in configuration order. */
  readonly policies: readonly PolicyDecision[];
  /** Every failed rule of every policy, audit ones included. */
  readonly failures: readonly RuleFailure[];
}

export interface EvaluateOptions {
  /** Milliseconds since the epoch; default Date.now(). */
  readonly now?: number;
  /** Kubernetes namespace of the object at admission. */
  readonly namespace?: string;
}

export function evaluate(
  policies: readonly Policy[],
  facts: ImageFacts,
  point: PolicyPoint,
  options: EvaluateOptions = {},
): Decision {
  const context = {
    point,
    now: options.now ?? Date.now(),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  };
  const decisions: PolicyDecision[] = [];
  const failures: RuleFailure[] = [];
  let outcome: Outcome = "allow";
  for (const policy of policies) {
    if (!policy.appliesTo(facts, point, options.namespace)) continue;
    const failed: { rule: string; reason: string }[] = [];
    for (const rule of policy.rules) {
      const reason = rule.check(facts, context);
      if (reason !== undefined) failed.push({ rule: rule.name, reason });
    }
    decisions.push({
      policy: policy.name,
      mode: policy.mode,
      allowed: failed.length === 0,
      failures: failed,
    });
    for (const f of failed) failures.push({ policy: policy.name, mode: policy.mode, ...f });
    if (failed.length > 0 && policy.mode === "enforce") outcome = "deny";
    else if (failed.length > 0 && policy.mode === "warn" && outcome === "allow") outcome = "warn";
  }
  return { outcome, point, reference: facts.reference, digest: facts.digest, policies: decisions, failures };
}

/**
 * One line per failure that counts for the outcome — enforce failures for deny, warn failures
 * for warn — for a 403 message, a `Warning: 299` header or a CLI error:
 * `policy "prod" rule signedBy: not signed by any of release (no signatures)`.
 */
export function describeDecision(decision: Decision): string[] {
  const mode: PolicyMode | undefined =
    decision.outcome === "deny" ? "enforce" : decision.outcome === "warn" ? "warn" : undefined;
  return decision.failures
    .filter((f) => f.mode === mode)
    .map((f) => `policy ${JSON.stringify(f.policy)} rule ${f.rule}: ${f.reason}`);
}
