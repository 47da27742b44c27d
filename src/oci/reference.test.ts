// References: docker's splitting rules, IPv6 hosts, and a clear error code for every bad form.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OciFormatCode } from "./errors.ts";
import { parseRepositoryName } from "./names.ts";
import { formatReference, parseReference, type Reference } from "./reference.ts";
import { throwsOci } from "../../test/helpers/oci-assert.ts";

const D256 = `sha256:${"ab".repeat(32)}`;
const D512 = `sha512:${"cd".repeat(64)}`;

describe("parseReference accepts", () => {
  const cases: { input: string; want: Record<string, string> }[] = [
    { input: "app", want: { repository: "app" } },
    { input: "team/app", want: { repository: "team/app" } },
    { input: "a/b/c/d", want: { repository: "a/b/c/d" } },
    { input: "team/app:v1", want: { repository: "team/app", tag: "v1" } },
    { input: "team/app@" + D256, want: { repository: "team/app", digest: D256 } },
    {
      input: "127.0.0.1:5000/team/app:v1",
      want: { registry: "127.0.0.1:5000", repository: "team/app", tag: "v1" },
    },
    {
      input: `localhost:5000/a/b@${D256}`,
      want: { registry: "localhost:5000", repository: "a/b", digest: D256 },
    },
    {
      input: `host/repo:tag@${D256}`,
      want: { repository: "host/repo", tag: "tag", digest: D256 },
    },
    {
      input: `registry.example.com/repo:tag@${D512}`,
      want: { registry: "registry.example.com", repository: "repo", tag: "tag", digest: D512 },
    },
    { input: "localhost/app", want: { registry: "localhost", repository: "app" } },
    { input: "localhost", want: { repository: "localhost" } },
    { input: "localhost:5000", want: { repository: "localhost", tag: "5000" } },
    { input: "example.com/app", want: { registry: "example.com", repository: "app" } },
    { input: "my-host:443/app", want: { registry: "my-host:443", repository: "app" } },
    { input: "Registry/app", want: { registry: "Registry", repository: "app" } },
    { input: "REG.EXAMPLE.COM:65535/a", want: { registry: "REG.EXAMPLE.COM:65535", repository: "a" } },
    { input: "[::1]:5000/repo:tag", want: { registry: "[::1]:5000", repository: "repo", tag: "tag" } },
    { input: "[::1]/repo", want: { registry: "[::1]", repository: "repo" } },
    {
      input: `[2001:db8::1]:5000/team/repo@${D256}`,
      want: { registry: "[2001:db8::1]:5000", repository: "team/repo", digest: D256 },
    },
    { input: "[::ffff:127.0.0.1]:80/x", want: { registry: "[::ffff:127.0.0.1]:80", repository: "x" } },
    { input: "my.team/app", want: { registry: "my.team", repository: "app" } },
    { input: "team.with.dots", want: { repository: "team.with.dots" } },
    { input: "app:V1_x.y-z", want: { repository: "app", tag: "V1_x.y-z" } },
    { input: `h:1/${"a".repeat(249)}`, want: { registry: "h:1", repository: "a".repeat(249) } },
  ];
  for (const { input, want } of cases) {
    it(JSON.stringify(input.length > 70 ? `${input.slice(0, 50)}…` : input), () => {
      const got = parseReference(input);
      assert.deepEqual({ ...got }, want);
      assert.equal(formatReference(got), input);
      assert.deepEqual({ ...parseReference(formatReference(got)) }, want);
    });
  }
});

describe("parseReference rejects", () => {
  const cases: { input: string; code: OciFormatCode; pattern?: RegExp }[] = [
    { input: "", code: "REFERENCE_INVALID", pattern: /empty/ },
    { input: "x".repeat(1_000_000), code: "REFERENCE_INVALID", pattern: /over the limit/ },
    {
      input: `${"a/".repeat(200)}a`,
      code: "NAME_INVALID",
      pattern: /name is 401 characters, over the limit of 255/,
    },
    { input: `registry.io/${"a".repeat(250)}`, code: "NAME_INVALID", pattern: /over the limit of 255/ },
    // Repository part.
    { input: "App", code: "NAME_INVALID", pattern: /must be lowercase/ },
    {
      input: "team/App:v1",
      code: "NAME_INVALID",
      pattern: /^Invalid reference "team\/App:v1": invalid repository name/,
    },
    { input: "localhost:5000/", code: "NAME_INVALID", pattern: /empty/ },
    { input: "localhost:5000//a", code: "NAME_INVALID", pattern: /empty path component/ },
    { input: "/app", code: "NAME_INVALID", pattern: /empty path component/ },
    { input: "app/", code: "NAME_INVALID", pattern: /empty path component/ },
    { input: ":tag", code: "NAME_INVALID", pattern: /empty/ },
    { input: `@${D256}`, code: "NAME_INVALID", pattern: /empty/ },
    { input: "team/../app", code: "NAME_INVALID" },
    { input: "registry.io/%2e%2e/app", code: "NAME_INVALID" },
    { input: "team%2fapp", code: "NAME_INVALID" },
    { input: "team\\app", code: "NAME_INVALID" },
    { input: "team/app\0", code: "NAME_INVALID", pattern: /\\u0000/ },
    { input: " team/app", code: "NAME_INVALID" },
    { input: "team/app ", code: "NAME_INVALID" },
    { input: "-app", code: "NAME_INVALID" },
    { input: "app-", code: "NAME_INVALID" },
    // Tag part.
    { input: "app:", code: "TAG_INVALID", pattern: /invalid tag ""/ },
    { input: "app:.x", code: "TAG_INVALID" },
    { input: "app:-x", code: "TAG_INVALID" },
    { input: `app:${"t".repeat(129)}`, code: "TAG_INVALID", pattern: /over the limit of 128/ },
    { input: "app:a b", code: "TAG_INVALID" },
    { input: "app:v1:v2", code: "NAME_INVALID", pattern: /invalid repository name "app:v1"/ },
    { input: "app:é", code: "TAG_INVALID" },
    // Digest part.
    { input: "app@", code: "DIGEST_INVALID", pattern: /invalid digest ""/ },
    { input: "app@sha256:abc", code: "DIGEST_INVALID", pattern: /needs 64/ },
    { input: `app@${D256.toUpperCase()}`, code: "DIGEST_INVALID" },
    { input: `app@md5:${"a".repeat(32)}`, code: "DIGEST_INVALID", pattern: /unsupported algorithm/ },
    { input: `app@${D256}@${D256}`, code: "DIGEST_INVALID" },
    { input: `app@${D256} `, code: "DIGEST_INVALID" },
    { input: `app:tag@`, code: "DIGEST_INVALID" },
    { input: `app@${D256}:tag`, code: "DIGEST_INVALID" },
    // Registry part.
    { input: "-host.io/app", code: "REFERENCE_INVALID", pattern: /registry host "-host.io"/ },
    { input: "host-.io/app", code: "REFERENCE_INVALID" },
    { input: "host..io/app", code: "REFERENCE_INVALID" },
    { input: ".io/app", code: "REFERENCE_INVALID" },
    { input: "host_name.io/app", code: "REFERENCE_INVALID" },
    { input: "host:/app", code: "REFERENCE_INVALID", pattern: /port ""/ },
    { input: "host:0/app", code: "REFERENCE_INVALID", pattern: /port "0" is not a number from 1 to 65535/ },
    { input: "host:65536/app", code: "REFERENCE_INVALID", pattern: /65536/ },
    { input: "host:123456/app", code: "REFERENCE_INVALID" },
    { input: "host:http/app", code: "REFERENCE_INVALID" },
    { input: "host:1:2/app", code: "REFERENCE_INVALID" },
    { input: ":5000/app", code: "REFERENCE_INVALID" },
    { input: "::1/app", code: "REFERENCE_INVALID", pattern: /IPv6 needs \[brackets\]/ },
    { input: "[::1/app", code: "REFERENCE_INVALID", pattern: /unclosed \[/ },
    { input: "[::g]/app", code: "REFERENCE_INVALID", pattern: /"::g" is not an IPv6 address/ },
    { input: "[1:2:3:4:5:6:7:8:9]/app", code: "REFERENCE_INVALID", pattern: /not an IPv6 address/ },
    { input: "[]/app", code: "REFERENCE_INVALID" },
    { input: "[fe80::1%eth0]:5000/app", code: "REFERENCE_INVALID" },
    { input: "[::1]5000/app", code: "REFERENCE_INVALID", pattern: /expected ":port" after "\]"/ },
    { input: "[::1]:/app", code: "REFERENCE_INVALID" },
    { input: "[::1]:99999/app", code: "REFERENCE_INVALID" },
    { input: "[127.0.0.1]/app", code: "REFERENCE_INVALID" },
    { input: "hôst.io/app", code: "REFERENCE_INVALID" },
    { input: "host.io\0/app", code: "REFERENCE_INVALID", pattern: /\\u0000/ },
    { input: "user@host.io/app", code: "DIGEST_INVALID" },
    { input: "https://host.io/app", code: "REFERENCE_INVALID" },
    { input: "[::1]:5000", code: "NAME_INVALID" },
  ];
  for (const { input, code, pattern } of cases) {
    it(`${JSON.stringify(input.length > 60 ? `${input.slice(0, 40)}…(${input.length})` : input)} with ${code}`, () => {
      throwsOci(() => parseReference(input), code, pattern);
    });
  }

  for (const value of [undefined, null, 1, {}]) {
    it(`the non-string ${JSON.stringify(value) ?? "undefined"}`, () => {
      throwsOci(() => parseReference(value as unknown as string), "REFERENCE_INVALID");
    });
  }
});

describe("formatReference", () => {
  const repo = (name: string) => parseRepositoryName(name);
  const bad: { name: string; ref: Reference; code: OciFormatCode; pattern?: RegExp }[] = [
    {
      name: "a repository whose first component reads as a registry",
      ref: { repository: repo("my.team/app") },
      code: "REFERENCE_INVALID",
      pattern: /needs a registry/,
    },
    {
      name: "localhost as a first component",
      ref: { repository: repo("localhost/app") },
      code: "REFERENCE_INVALID",
    },
    {
      name: "an invalid registry",
      ref: { registry: "bad host", repository: repo("app") },
      code: "REFERENCE_INVALID",
    },
    { name: "an empty registry", ref: { registry: "", repository: repo("app") }, code: "REFERENCE_INVALID" },
    { name: "an invalid tag", ref: { repository: repo("app"), tag: ".x" }, code: "TAG_INVALID" },
    { name: "an unchecked repository", ref: { repository: "App" as never }, code: "NAME_INVALID" },
  ];
  for (const { name, ref, code, pattern } of bad) {
    it(`refuses ${name}`, () => throwsOci(() => formatReference(ref), code, pattern));
  }

  it("writes a dotted first component once a registry is given", () => {
    const ref = { registry: "localhost:5000", repository: repo("my.team/app"), tag: "v1" };
    assert.equal(formatReference(ref), "localhost:5000/my.team/app:v1");
    assert.deepEqual({ ...parseReference(formatReference(ref)) }, ref);
  });
});
