import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseChoice,
  parseImageRef,
  parseInteger,
  parsePairs,
  parseVersionRef,
  registryReference,
  versionPath,
} from "./args.ts";
import { CliError } from "./errors.ts";

const usage = (e: unknown) => e instanceof CliError && e.exitCode === 2;

describe("CLI arguments", () => {
  it("read GALLERY/NAME and the three spellings of a version", () => {
    assert.deepEqual(parseImageRef("prod/web"), { gallery: "prod", image: "web" });
    for (const [text, version] of [
      ["prod/web", "1.4.2"],
      ["prod/web:1.4.2", undefined],
      ["prod/web@1.4.2", undefined],
    ] as const) {
      assert.deepEqual(parseVersionRef(text, version), { gallery: "prod", image: "web", version: "1.4.2" });
    }
  });
  it("refuse malformed references as usage errors", () => {
    for (const bad of ["web", "prod/", "/web", "a/b/c", "prod/web:1.0.0", "prod/web@1.0.0"])
      assert.throws(() => parseImageRef(bad), usage, bad);
    assert.throws(() => parseImageRef("prod/web:1.0.0"), /expected GALLERY\/NAME without a version/);
    assert.throws(() => parseVersionRef("prod/web"), usage);
    assert.throws(() => parseVersionRef("prod/web:1.0.0", "1.0.0"), usage);
  });
  it("read integers and KEY=VALUE pairs, refusing anything else", () => {
    assert.equal(parseInteger("--approvals", "2"), 2);
    assert.equal(parseInteger("--approvals", undefined), undefined);
    for (const bad of ["-1", "1.5", "two", "", "1e3"])
      assert.throws(() => parseInteger("--approvals", bad), usage, bad);
    assert.deepEqual(parsePairs("--label", ["a=1", "b=x=y", "c="]), { a: "1", b: "x=y", c: "" });
    assert.throws(() => parsePairs("--label", ["=1"]), usage);
    assert.throws(() => parsePairs("--label", ["novalue"]), usage);
  });
  it("accept only the listed values of an enumerated flag", () => {
    assert.equal(parseChoice("--mode", "warn", ["enforce", "warn", "off"]), "warn");
    assert.equal(parseChoice("--mode", undefined, ["enforce"]), undefined);
    for (const bad of ["WARN", "", "warn ", "enforced"])
      assert.throws(() => parseChoice("--mode", bad, ["enforce", "warn", "off"]), usage, bad);
    assert.throws(
      () => parseChoice("--mode", "loud", ["enforce", "warn", "off"]),
      /Invalid --mode "loud": expected one of enforce, warn, off/,
    );
  });
  it("strip the server's HOST:PORT from a registry reference, and nothing else", () => {
    for (const [reference, server, want] of [
      ["127.0.0.1:5000/builds/web:ci-42", "http://127.0.0.1:5000", "builds/web:ci-42"],
      ["builds/web:ci-42", "http://127.0.0.1:5000", "builds/web:ci-42"],
      ["reg.example/prod/web@sha256:ab", "https://reg.example", "prod/web@sha256:ab"],
      ["reg.example:443/prod/web:1.2.0", "https://reg.example", "prod/web:1.2.0"],
      ["127.0.0.1:5001/builds/web:1", "http://127.0.0.1:5000", "127.0.0.1:5001/builds/web:1"],
      ["127.0.0.1:50000/builds/web:1", "http://127.0.0.1:5000", "127.0.0.1:50000/builds/web:1"],
    ] as const) {
      assert.equal(registryReference(reference, server), want, `${reference} on ${server}`);
    }
  });
  it("escape path segments", () => {
    assert.equal(
      versionPath({ gallery: "p", image: "w", version: "1.0.0/../x" }),
      "/galleries/p/images/w/versions/1.0.0%2F..%2Fx",
    );
  });
});
