// signedBy: valid signatures by at least `threshold` (default 1) distinct keys of a list. A key
// is named by its key id (64 hex digits) or by a name: one of the compile options' keys, or the
// name the caller gave the signature's key. Invalid signatures never count.
import type { ImageFacts, SignatureFact } from "../facts.ts";
import { unavailableReason } from "../facts.ts";
import type { Problems } from "../errors.ts";
import {
  describeKind,
  isDict,
  readStrings,
  short,
  unknownKeys,
  type CompileOptions,
  type Rule,
} from "../rule.ts";

const KEY_ID = /^[0-9a-f]{64}$/;

export function readSignedBy(value: unknown, problems: Problems, options: CompileOptions): Rule | undefined {
  const spec = Array.isArray(value) ? { keys: value } : value;
  if (!isDict(spec))
    return problems.add([], `expected a list of keys or { keys, threshold }, got ${describeKind(value)}`);
  unknownKeys(spec, ["keys", "threshold"], problems);
  const keys = readStrings(spec.keys, Array.isArray(value) ? problems : problems.at("keys"), (key) =>
    KEY_ID.test(key) || options.keys === undefined || options.keys.has(key)
      ? undefined
      : `unknown key ${JSON.stringify(key)}: name a key of policy.keys or give a key id (64 hex digits)`,
  );
  const threshold = spec.threshold ?? 1;
  if (typeof threshold !== "number" || !Number.isInteger(threshold) || threshold < 1)
    return problems.add(
      ["threshold"],
      `expected a whole number of at least 1, got ${describeKind(threshold)}`,
    );
  if (keys === undefined) return undefined;
  if (threshold > keys.length)
    return problems.add(["threshold"], `${threshold} signatures needed but only ${keys.length} keys named`);
  const ids = new Map(keys.map((key) => [key, options.keys?.get(key)]));
  const matches = (key: string, sig: SignatureFact): boolean =>
    sig.keyId === key || sig.keyName === key || (ids.get(key) !== undefined && ids.get(key) === sig.keyId);
  return {
    name: "signedBy",
    check(facts: ImageFacts): string | undefined {
      const missing = unavailableReason(facts, "signatures");
      if (missing !== undefined) return `signatures unavailable: ${missing}`;
      const signatures = facts.signatures ?? [];
      const valid = signatures.filter((s) => s.valid);
      const by = keys.filter((key) => valid.some((sig) => matches(key, sig)));
      if (by.length >= threshold) return undefined;
      const found =
        signatures.length === 0
          ? "no signatures"
          : `found: ${signatures
              .map(
                (s) =>
                  `key ${short(s.keyId)}${s.keyName === undefined ? "" : ` (${s.keyName})`}${s.valid ? "" : " invalid"}`,
              )
              .join(", ")}`;
      return threshold === 1
        ? `not signed by any of ${keys.join(", ")} (${found})`
        : `signed by ${by.length} of ${keys.join(", ")}, ${threshold} needed (${found})`;
    },
  };
}
