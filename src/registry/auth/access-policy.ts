// Who may do what where: the actions a caller has on a repository are the union of the actions
// of every rule whose repository globs match it and whose users name the caller, plus pull when
// `anonymous: read`. What anonymous callers may do, every authenticated user may do too (clients
// with stored credentials always send them). Rules only grant; their order does not matter.
import { compileRepositoryGlob } from "../../oci/index.ts";
import { ACTIONS, type Action, type AuthConfig } from "./types.ts";

/** Rule entry for any authenticated user. */
export const ANY_USER = "*";
/** Rule entry for callers without credentials. */
export const ANONYMOUS = "anonymous";

export interface AccessPolicy {
  /** Actions `user` (undefined = anonymous) has on `repository`. */
  actions(user: string | undefined, repository: string): ReadonlySet<Action>;
  /** Anonymous callers may list the catalog when they may pull somewhere. */
  readonly anonymousCatalog: boolean;
}

interface CompiledRule {
  readonly matches: readonly ((repository: string) => boolean)[];
  readonly users: ReadonlySet<string>;
  readonly actions: readonly Action[];
}

export function createAccessPolicy(config: AuthConfig): AccessPolicy {
  const rules: CompiledRule[] = config.access.map((rule) => ({
    matches: rule.repositories.map(compileRepositoryGlob),
    users: new Set(rule.users),
    actions: rule.actions,
  }));
  const anonymousRead = config.anonymous === "read";
  const appliesTo = (rule: CompiledRule, user: string | undefined): boolean =>
    rule.users.has(ANONYMOUS) || (user !== undefined && (rule.users.has(ANY_USER) || rule.users.has(user)));

  return {
    anonymousCatalog:
      anonymousRead || rules.some((rule) => rule.actions.includes("pull") && appliesTo(rule, undefined)),
    actions(user, repository) {
      const granted = new Set<Action>(anonymousRead ? ["pull"] : []);
      for (const rule of rules) {
        if (granted.size === ACTIONS.length) break;
        if (!appliesTo(rule, user) || !rule.matches.some((match) => match(repository))) continue;
        for (const action of rule.actions) granted.add(action);
      }
      return granted;
    },
  };
}
