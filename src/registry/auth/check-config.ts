// Checks of the `auth` section beyond its shape: password hashes, user names, globs, and rules
// that name users who do not exist. The configuration loader reports these with the key path.
import { ANONYMOUS, ANY_USER } from "./access-policy.ts";
import { checkRepositoryGlob } from "../../oci/index.ts";
import { isPasswordHash } from "./password.ts";
import type { AuthConfig } from "./types.ts";

export interface AuthConfigProblem {
  /** Key path under `auth`, e.g. ["access", 0, "users", 1]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export function checkAuthConfig(config: AuthConfig): AuthConfigProblem[] {
  const problems: AuthConfigProblem[] = [];
  const users = new Set(Object.keys(config.users));
  for (const [name, user] of Object.entries(config.users)) {
    if (name === ANONYMOUS || !USER_NAME.test(name)) {
      problems.push({
        path: ["users", name],
        message:
          name === ANONYMOUS
            ? `user name "${ANONYMOUS}" is reserved for callers without credentials`
            : "user names are 1 to 128 letters, digits and . _ @ + - starting with a letter or digit",
      });
    }
    if (!isPasswordHash(user.password)) {
      problems.push({
        path: ["users", name, "password"],
        message: "expected a scrypt hash from `strata hash-password`, not a password",
      });
    }
  }
  config.access.forEach((rule, i) => {
    if (rule.repositories.length === 0)
      problems.push({ path: ["access", i, "repositories"], message: "empty list" });
    rule.repositories.forEach((glob, j) => {
      const problem = checkRepositoryGlob(glob);
      if (problem !== undefined) problems.push({ path: ["access", i, "repositories", j], message: problem });
    });
    if (rule.users.length === 0) problems.push({ path: ["access", i, "users"], message: "empty list" });
    rule.users.forEach((user, j) => {
      if (user !== ANY_USER && user !== ANONYMOUS && !users.has(user)) {
        problems.push({
          path: ["access", i, "users", j],
          message: `unknown user ${JSON.stringify(user)}: not in auth.users (use "*" for any user, "anonymous" for no credentials)`,
        });
      }
    });
    if (rule.actions.length === 0) problems.push({ path: ["access", i, "actions"], message: "empty list" });
  });
  if (config.token.ttl < 1000) problems.push({ path: ["token", "ttl"], message: "must be at least 1s" });
  if (config.token.service.length === 0)
    problems.push({ path: ["token", "service"], message: "empty string" });
  if (config.token.issuer.length === 0) problems.push({ path: ["token", "issuer"], message: "empty string" });
  if (config.token.realm !== undefined && !/^https?:\/\/[^\s"]+$/.test(config.token.realm)) {
    problems.push({ path: ["token", "realm"], message: "expected an http:// or https:// URL" });
  }
  return problems;
}
