// The policies' named keys (`policy.keys`), read once at start: a key that cannot be read stops
// the start with the configuration key and the reason. The names map to key ids for
// compilePolicies (signedBy rules), and the keys themselves verify signatures for the facts.
import { trustedKeyFromFile, type TrustedKey } from "../sign/index.ts";
import type { PolicyConfig } from "./config.ts";

export async function loadPolicyKeys(keys: PolicyConfig["keys"]): Promise<Map<string, TrustedKey>> {
  const out = new Map<string, TrustedKey>();
  for (const [name, file] of Object.entries(keys)) {
    const key = await trustedKeyFromFile(file).catch((error: unknown) => {
      throw new Error(`policy.keys.${name}: ${(error as Error).message}`, { cause: error });
    });
    out.set(name, { ...key, name });
  }
  return out;
}

/** Key names → key ids, as compilePolicies takes them. */
export const policyKeyIds = (keys: ReadonlyMap<string, TrustedKey>): Map<string, string> =>
  new Map([...keys].map(([name, key]) => [name, key.keyId]));
