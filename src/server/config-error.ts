// The error of an invalid configuration: where it came from and every problem found there.

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** `"strata.yaml"` (quoted path), `in environment`, `in overrides`, or empty. */
  readonly source: string;
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`Invalid configuration${source === "" ? "" : ` ${source}`}: ${problems.join("; ")}`, options);
    this.source = source;
    this.problems = problems;
  }
}
