// Repository globs: * stays within a component, ** crosses components, the rest is literal.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkRepositoryGlob, compileRepositoryGlob } from "./glob.ts";

test("globs match repository names", () => {
  const cases: [string, string, boolean][] = [
    ["team/*", "team/a", true],
    ["team/*", "team/a/b", false],
    ["team/*", "team", false],
    ["team/*", "team/", true],
    ["team/*", "teams/a", false],
    ["team/**", "team/a/b", true],
    ["team/**", "team/a", true],
    ["team/**", "team", false],
    ["**", "anything/at/all", true],
    ["*", "top", true],
    ["*", "a/b", false],
    ["*/app", "team/app", true],
    ["*/app", "x/team/app", false],
    ["**/app", "x/team/app", true],
    ["app-*", "app-1", true],
    ["a.b", "axb", false],
    ["a.b", "a.b", true],
    ["library/ubuntu", "library/ubuntu", true],
    ["library/ubuntu", "library/ubuntu2", false],
  ];
  for (const [glob, name, want] of cases) {
    assert.equal(checkRepositoryGlob(glob), undefined, glob);
    assert.equal(compileRepositoryGlob(glob)(name), want, `${glob} ~ ${name}`);
  }
});

test("unusable globs are explained", () => {
  for (const glob of ["", "Team/*", "team/[ab]", "team/a?", "team/***", "team a"]) {
    assert.equal(typeof checkRepositoryGlob(glob), "string", glob);
  }
});
