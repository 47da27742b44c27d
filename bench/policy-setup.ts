// The policy the benchmark's Strata server runs under, and the key its images are signed with.
// The policy is scoped to `bench-policy/**` only, so every other scenario reads and writes
// repositories no policy applies to (the pull path's scope check is all they pay).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKey, publicKeyPem, type SigningKey } from "../src/sign/index.ts";

export const POLICY_REPO_PREFIX = "bench-policy";

let key: SigningKey | undefined;

/** The key the policy trusts (made once per benchmark run). */
export function benchKey(): SigningKey {
  key ??= generateSigningKey();
  return key;
}

/** strata.yaml for the benchmark's Strata server: an enforce pull policy on bench-policy/**. */
export function policyYaml(): string {
  const dir = mkdtempSync(join(tmpdir(), "strata-bench-policy-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const pub = join(dir, "bench.pub");
  writeFileSync(pub, publicKeyPem(benchKey().publicKey));
  return [
    "policy:",
    "  keys:",
    `    bench: ${JSON.stringify(pub)}`,
    "policies:",
    "  - name: bench-release",
    "    mode: enforce",
    `    scope: { repositories: ["${POLICY_REPO_PREFIX}/**"] }`,
    "    points: [pull]",
    "    rules:",
    "      signedBy: [bench]",
    "      sbom: true",
    "      maxAge: 30d",
    "",
  ].join("\n");
}
