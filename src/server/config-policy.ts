// Checks of the policies that span keys: a signedBy rule names keys of `policy.keys` (or gives a
// key id), so a misspelt key name stops the start instead of failing every signature check.
import { parsePolicies, type PolicyProblem, type PolicySpec } from "../policy/index.ts";

export function checkPolicyKeys(config: {
  readonly policies: readonly PolicySpec[];
  readonly policy: { readonly keys: Readonly<Record<string, string>> };
}): PolicyProblem[] {
  if (config.policies.length === 0) return [];
  // Only the names matter here; the key ids are read from the files at start.
  const keys = new Map(Object.keys(config.policy.keys).map((name) => [name, ""]));
  return parsePolicies(config.policies, { keys }).problems;
}
