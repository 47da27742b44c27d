// Public surface of the policy engine: pure rule evaluation over facts about an image.
export * from "./facts.ts";
export { PolicyError, formatPolicyPath, type PolicyPath, type PolicyProblem } from "./errors.ts";
export type { CheckContext, CompileOptions, Rule, VersionComparator } from "./rule.ts";
export {
  compilePolicies,
  parsePolicies,
  POLICY_MODES,
  RULE_NAMES,
  type Policy,
  type PolicyMode,
  type PolicyScope,
  type PolicySpec,
} from "./policy.ts";
export {
  describeDecision,
  evaluate,
  type Decision,
  type EvaluateOptions,
  type Outcome,
  type PolicyDecision,
  type RuleFailure,
} from "./evaluate.ts";
export { parseAgeDuration } from "./rules/max-age.ts";
export { parseConstraint } from "./rules/denied-packages.ts";
