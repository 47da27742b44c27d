// Access rules: the union of matching rules, "*" and "anonymous" entries, anonymous read;
// users get at least what anonymous callers get.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAccessPolicy } from "./access-policy.ts";
import type { AuthConfig } from "./types.ts";

const base: AuthConfig = {
  anonymous: "none",
  users: { alice: { password: "x" }, bob: { password: "x" } },
  access: [
    { repositories: ["team/*", "shared/**"], users: ["alice"], actions: ["pull", "push", "delete"] },
    { repositories: ["team/*"], users: ["*"], actions: ["pull"] },
    { repositories: ["team/bob"], users: ["bob"], actions: ["push"] },
    { repositories: ["public/**"], users: ["anonymous"], actions: ["pull"] },
  ],
  token: { ttl: 300_000, issuer: "strata", service: "strata" },
};

test("actions are the union of every matching rule", () => {
  const policy = createAccessPolicy(base);
  const cases: [string | undefined, string, string[]][] = [
    ["alice", "team/app", ["pull", "push", "delete"]],
    ["alice", "team/a/b", []],
    ["alice", "shared/a/b", ["pull", "push", "delete"]],
    ["bob", "team/app", ["pull"]],
    ["bob", "team/bob", ["pull", "push"]],
    ["bob", "shared/x", []],
    ["carol", "team/app", ["pull"]],
    [undefined, "team/app", []],
    [undefined, "public/x/y", ["pull"]],
    ["alice", "public/x", ["pull"]],
  ];
  for (const [user, repo, want] of cases) {
    assert.deepEqual([...policy.actions(user, repo)].sort(), want.sort(), `${user} on ${repo}`);
  }
  assert.equal(policy.anonymousCatalog, true, "a rule grants anonymous pull somewhere");
});

test("anonymous read grants pull everywhere, to users too", () => {
  const policy = createAccessPolicy({ ...base, anonymous: "read", access: [] });
  assert.deepEqual([...policy.actions(undefined, "any/thing")], ["pull"]);
  assert.deepEqual([...policy.actions("alice", "any/thing")], ["pull"]);
  assert.equal(policy.anonymousCatalog, true);
  assert.equal(createAccessPolicy({ ...base, access: [] }).anonymousCatalog, false);
});
