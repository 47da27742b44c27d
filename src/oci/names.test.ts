// Repository names and tags: the distribution spec grammar, and the hostile strings around it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_NAME_LENGTH,
  MAX_TAG_LENGTH,
  isRepositoryName,
  isTag,
  parseRepositoryName,
  parseTag,
} from "./names.ts";
import { throwsOci } from "../../test/helpers/oci-assert.ts";

const show = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 20)}…(${s.length})` : s);

describe("parseRepositoryName", () => {
  const valid = [
    "a",
    "0",
    "app",
    "team/app",
    "a/b/c/d/e",
    "a.b",
    "a_b",
    "a__b",
    "a-b",
    "a--b",
    "library/ubuntu",
    "v1.2/x-y_z",
    "a".repeat(MAX_NAME_LENGTH),
    `${"a/".repeat(127)}a`,
  ];
  for (const name of valid) {
    it(`accepts ${show(name)}`, () => {
      assert.equal(parseRepositoryName(name), name);
      assert.equal(isRepositoryName(name), true);
    });
  }

  const invalid: { name: string; pattern?: RegExp }[] = [
    { name: "", pattern: /empty/ },
    { name: "A", pattern: /must be lowercase/ },
    { name: "team/App", pattern: /must be lowercase/ },
    { name: "..", pattern: /use lowercase letters/ },
    { name: "a/..", pattern: /use lowercase letters/ },
    { name: "../a" },
    { name: "a/../b" },
    { name: "a/./b" },
    { name: "." },
    { name: "%2e%2e" },
    { name: "a/%2e%2e/b" },
    { name: "a%2fb" },
    { name: "a%2Fb" },
    { name: "a\0b", pattern: /\\u0000/ },
    { name: "a\0" },
    { name: "a\\b" },
    { name: "..\\..\\etc" },
    { name: "-a" },
    { name: "a-" },
    { name: ".a" },
    { name: "a." },
    { name: "_a" },
    { name: "a_" },
    { name: "a___b" },
    { name: "a..b" },
    { name: "a.-b" },
    { name: "a-.b" },
    { name: "/a", pattern: /empty path component/ },
    { name: "a/", pattern: /empty path component/ },
    { name: "a//b", pattern: /empty path component/ },
    { name: "/" },
    { name: "a b" },
    { name: " a" },
    { name: "a " },
    { name: "a\n", pattern: /\\n/ },
    { name: "a\tb" },
    { name: "é" },
    { name: "ａ" },
    { name: "a:b" },
    { name: "a@b" },
    { name: "a:latest" },
    { name: "a?b" },
    { name: "a#b" },
    { name: "a".repeat(MAX_NAME_LENGTH + 1), pattern: /256 characters is over the limit of 255/ },
    { name: `${"a/".repeat(200)}a`, pattern: /over the limit/ },
    { name: "a".repeat(1_000_000), pattern: /over the limit/ },
  ];
  for (const { name, pattern } of invalid) {
    it(`rejects ${show(name)}`, () => {
      throwsOci(() => parseRepositoryName(name), "NAME_INVALID", pattern);
      assert.equal(isRepositoryName(name), false);
    });
  }

  for (const value of [undefined, null, 1, ["a"], { length: 1 }]) {
    it(`rejects the non-string ${JSON.stringify(value) ?? "undefined"}`, () => {
      throwsOci(() => parseRepositoryName(value as unknown as string), "NAME_INVALID", /not a string/);
      assert.equal(isRepositoryName(value as unknown as string), false);
    });
  }
});

describe("parseTag", () => {
  const valid = [
    "latest",
    "v1",
    "v1.0.0",
    "1.0-rc.1",
    "_x",
    "A",
    "UPPER_lower",
    "a--b..c__d",
    "x".repeat(MAX_TAG_LENGTH),
  ];
  for (const tag of valid) {
    it(`accepts ${show(tag)}`, () => {
      assert.equal(parseTag(tag), tag);
      assert.equal(isTag(tag), true);
    });
  }

  const invalid: { tag: string; pattern?: RegExp }[] = [
    { tag: "", pattern: /use letters/ },
    { tag: ".x", pattern: /not starting with \. or -/ },
    { tag: "-x" },
    { tag: ".." },
    { tag: "x".repeat(MAX_TAG_LENGTH + 1), pattern: /129 characters is over the limit of 128/ },
    { tag: "x".repeat(1_000_000), pattern: /over the limit/ },
    { tag: "a/b" },
    { tag: "a:b" },
    { tag: "a@b" },
    { tag: "a b" },
    { tag: " a" },
    { tag: "a\n", pattern: /\\n/ },
    { tag: "a\0", pattern: /\\u0000/ },
    { tag: "a\\b" },
    { tag: "é" },
    { tag: "a+b" },
    { tag: "%2e" },
  ];
  for (const { tag, pattern } of invalid) {
    it(`rejects ${show(tag)}`, () => {
      throwsOci(() => parseTag(tag), "TAG_INVALID", pattern);
      assert.equal(isTag(tag), false);
    });
  }

  for (const value of [undefined, null, 1, ["latest"]]) {
    it(`rejects the non-string ${JSON.stringify(value) ?? "undefined"}`, () => {
      throwsOci(() => parseTag(value as unknown as string), "TAG_INVALID", /not a string/);
      assert.equal(isTag(value as unknown as string), false);
    });
  }
});
