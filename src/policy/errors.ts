// Errors of the policy domain: an invalid policy document, with every problem found in it.

export type PolicyPath = readonly (string | number)[];

/** One problem of a policy document: where (a key path from the list of policies) and what. */
export interface PolicyProblem {
  readonly path: PolicyPath;
  readonly message: string;
}

/** `[0].rules.maxAge`, `[1].rules.cel[0].expression`. */
export function formatPolicyPath(path: PolicyPath): string {
  return path
    .map((key, i) =>
      typeof key === "number"
        ? `[${key}]`
        : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)
          ? `${i === 0 ? "" : "."}${key}`
          : `[${JSON.stringify(key)}]`,
    )
    .join("");
}

export class PolicyError extends Error {
  override readonly name = "PolicyError";
  readonly problems: readonly PolicyProblem[];
  constructor(problems: readonly PolicyProblem[], options?: { cause?: unknown }) {
    const listed = problems.map((p) => `${formatPolicyPath(p.path)}: ${p.message}`).join("; ");
    super(`Invalid policies: ${listed}`, options);
    this.problems = problems;
  }
}

/** Collects problems under a path prefix while a policy is read. */
export class Problems {
  constructor(
    readonly list: PolicyProblem[] = [],
    private readonly prefix: PolicyPath = [],
  ) {}
  add(path: PolicyPath, message: string): undefined {
    this.list.push({ path: [...this.prefix, ...path], message });
    return undefined;
  }
  at(...path: PolicyPath): Problems {
    return new Problems(this.list, [...this.prefix, ...path]);
  }
}
