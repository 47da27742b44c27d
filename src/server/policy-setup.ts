// The policies of `strata.yaml` made ready for work at start: the named keys read (a key that
// cannot be read stops the start), the rules compiled with those key ids and the package version
// order of diff/, and every decision counted in /metrics as
// strata_policy_decisions_total{point,outcome,policy,mode}. No policy configured: undefined, and
// nothing anywhere decides or counts.
import { compareVersions } from "../diff/index.ts";
import type { PolicySetup } from "../gallery/index.ts";
import type { MetricsRegistry } from "../lib/metrics.ts";
import { compilePolicies, type Decision, type VersionComparator } from "../policy/index.ts";
import type { Config } from "./config.ts";
import { loadPolicyKeys, policyKeyIds } from "./policy-keys.ts";

const ECOSYSTEMS = new Set(["deb", "rpm", "apk"]);

const comparator: VersionComparator = (type, a, b) =>
  ECOSYSTEMS.has(type) ? compareVersions(type as "deb" | "rpm" | "apk", a, b) : undefined;

export async function loadPolicySetup(
  config: Pick<Config, "policies" | "policy">,
  metrics: MetricsRegistry,
): Promise<PolicySetup | undefined> {
  if (config.policies.length === 0) return undefined;
  const keys = await loadPolicyKeys(config.policy.keys);
  const policies = compilePolicies(config.policies, {
    keys: policyKeyIds(keys),
    compareVersions: comparator,
  });
  const decisions = metrics.counter(
    "strata_policy_decisions_total",
    'Policy decisions by point, outcome, and the policy and mode that failed (policy="" when none did)',
  );
  return {
    policies,
    specs: config.policies,
    keys: [...keys.values()],
    timeoutMs: config.policy.timeout,
    onDecision: (decision: Decision) => countDecision(decisions, decision),
  };
}

/** One count per failed policy (its mode), or one with empty policy and mode when none failed. */
function countDecision(counter: ReturnType<MetricsRegistry["counter"]>, decision: Decision): void {
  const failed = decision.policies.filter((p) => !p.allowed);
  if (failed.length === 0) {
    counter.inc({ point: decision.point, outcome: decision.outcome, policy: "", mode: "" });
    return;
  }
  for (const p of failed)
    counter.inc({ point: decision.point, outcome: decision.outcome, policy: p.policy, mode: p.mode });
}
