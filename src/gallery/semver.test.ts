import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareVersions, isVersionNumber, parseVersionNumber } from "./semver.ts";
import { GalleryError } from "./errors.ts";

describe("version numbers", () => {
  it("parses Major.Minor.Patch", () => {
    assert.deepEqual(parseVersionNumber("1.4.2"), { major: 1, minor: 4, patch: 2 });
    assert.deepEqual(parseVersionNumber("0.0.0"), { major: 0, minor: 0, patch: 0 });
    assert.deepEqual(parseVersionNumber("10.200.3000"), { major: 10, minor: 200, patch: 3000 });
  });
  for (const bad of [
    "",
    "1",
    "1.2",
    "1.2.3.4",
    "01.2.3",
    "1.02.3",
    "v1.2.3",
    "1.2.3-rc1",
    "1.2.3+b",
    " 1.2.3",
    "1..3",
    "-1.2.3",
    "1.2.x",
    "9999999999.0.0",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.equal(isVersionNumber(bad), false);
      assert.throws(
        () => parseVersionNumber(bad),
        (e: unknown) =>
          e instanceof GalleryError && e.code === "INVALID" && /Major\.Minor\.Patch/.test(e.message),
      );
    });
  }
  it("orders numerically, not lexically", () => {
    const sorted = ["1.10.0", "1.2.0", "1.2.10", "1.2.9", "0.9.9", "2.0.0"]
      .map(parseVersionNumber)
      .sort(compareVersions)
      .map((v) => `${v.major}.${v.minor}.${v.patch}`);
    assert.deepEqual(sorted, ["0.9.9", "1.2.0", "1.2.9", "1.2.10", "1.10.0", "2.0.0"]);
  });
});
