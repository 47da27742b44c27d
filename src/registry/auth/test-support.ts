// Shared fixtures of the auth tests: a configuration with alice and bob, headers, and a data dir.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPassword } from "./password.ts";
import type { AnonymousAccess, AuthConfig } from "./types.ts";

export const PASSWORDS = { alice: "alice-secret", bob: "bob-secret" } as const;

export async function testConfig(anonymous: AnonymousAccess, service = "strata"): Promise<AuthConfig> {
  return {
    anonymous,
    users: {
      alice: { password: await hashPassword(PASSWORDS.alice, { logN: 10 }) },
      bob: { password: await hashPassword(PASSWORDS.bob, { logN: 10 }) },
    },
    access: [
      { repositories: ["team/*", "shared/**"], users: ["alice"], actions: ["pull", "push", "delete"] },
      { repositories: ["team/*"], users: ["bob"], actions: ["pull"] },
    ],
    token: { ttl: 300_000, issuer: "strata", service },
  };
}

export const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export const tempDataDir = (): Promise<string> => mkdtemp(join(tmpdir(), "strata-auth-"));
