// sbom: an SBOM is attached. provenance: a provenance attestation is attached, optionally from
// the named builder id (or one of several).
import { unavailableReason, type ImageFacts } from "../facts.ts";
import type { Problems } from "../errors.ts";
import { describeKind, isDict, readStrings, unknownKeys, type Rule } from "../rule.ts";

export function readSbom(value: unknown, problems: Problems): Rule | undefined {
  if (value === false) return undefined;
  if (value !== true) return problems.add([], `expected true, got ${describeKind(value)}`);
  return {
    name: "sbom",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "sbom");
      if (missing !== undefined) return `SBOM unavailable: ${missing}`;
      return facts.sbom?.present === true ? undefined : "no SBOM attached";
    },
  };
}

export function readProvenance(value: unknown, problems: Problems): Rule | undefined {
  if (value === false) return undefined;
  let builders: string[] | undefined;
  if (isDict(value)) {
    unknownKeys(value, ["builder", "builders"], problems);
    builders =
      value.builder !== undefined && value.builders === undefined
        ? readStrings([value.builder], problems.at("builder"))
        : readStrings(value.builders, problems.at("builders"));
    if (builders === undefined) return undefined;
  } else if (value !== true) {
    return problems.add(
      [],
      `expected true, { builder: BUILDER-ID } or { builders: [BUILDER-ID, …] }, got ${describeKind(value)}`,
    );
  }
  return {
    name: "provenance",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "provenance");
      if (missing !== undefined) return `provenance unavailable: ${missing}`;
      const provenance = facts.provenance;
      if (provenance?.present !== true) return "no provenance attached";
      if (builders === undefined || builders.includes(provenance.builderId ?? "")) return undefined;
      return provenance.builderId === undefined
        ? `provenance names no builder, expected ${builders.join(" or ")}`
        : `built by ${JSON.stringify(provenance.builderId)}, not ${builders.map((b) => JSON.stringify(b)).join(" or ")}`;
    },
  };
}
