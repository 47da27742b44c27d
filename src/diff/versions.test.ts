import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { compareApkVersions, compareDebVersions, compareRpmVersions, compareVersions } from "./versions.ts";

const exec = promisify(execFile);

/** Tricky Debian versions: tildes, epochs, revisions, leading zeros, letters against symbols. */
function debianVersions(): string[] {
  const upstreams = [
    "1.0",
    "1.0~rc1",
    "1.0~~",
    "1.0~",
    "1.0~~a",
    "1.0a",
    "1.0A",
    "1.0+b1",
    "1.0.0",
    "1.00",
    "01.0",
    "1.0+dfsg",
    "1.0-1",
    "1.0.1",
    "1.0a~",
    "1.0.",
    "1.0+",
    "3.0.14",
    "3.0.15",
    "3.0.9",
    "10",
    "9",
    "a",
    "1:2",
  ];
  const revisions = ["", "-1", "-1~deb12u1", "-1+deb12u1", "-0", "-10", "-1.1", "-1~bpo1"];
  const epochs = ["", "1:", "0:"];
  const out = new Set<string>();
  let n = 0;
  // A spread of combinations rather than the whole product (dpkg is called once per pair).
  for (const u of upstreams)
    for (const r of revisions) {
      const e = epochs[n++ % epochs.length] ?? "";
      if (n % 3 === 0 || r === "" || r === "-1~deb12u1") out.add(`${e}${u}${r}`);
    }
  return [...out];
}

describe("Debian versions", () => {
  it("order every pair of a generated set as dpkg --compare-versions does", async () => {
    const versions = debianVersions();
    const pairs: [string, string][] = [];
    for (let i = 0; i < versions.length; i++)
      for (let j = i + 1; j < versions.length; j += 7) pairs.push([versions[i] ?? "", versions[j] ?? ""]);
    assert.ok(pairs.length > 250, `only ${pairs.length} pairs`);
    const dir = await mkdtemp(join(tmpdir(), "strata-dpkg-"));
    try {
      await writeFile(join(dir, "pairs"), pairs.map(([a, b]) => `${a} ${b}\n`).join(""));
      // One shell runs dpkg for every pair: lt, eq or gt per line.
      const script =
        'while read a b; do if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo -1; ' +
        'elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0; else echo 1; fi; done < "$1"';
      const { stdout } = await exec("sh", ["-c", script, "sh", join(dir, "pairs")], { maxBuffer: 1 << 24 });
      const expected = stdout.trim().split("\n").map(Number);
      assert.equal(expected.length, pairs.length);
      const wrong = pairs
        .map(([a, b], k) => ({ a, b, dpkg: expected[k], ours: compareDebVersions(a, b) }))
        .filter((r) => r.dpkg !== r.ours);
      assert.deepEqual(wrong, []);
      // Both outcomes occur, so the comparison is not trivially one-sided.
      assert.ok(expected.includes(-1) && expected.includes(1) && expected.includes(0));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("are antisymmetric", () => {
    const versions = debianVersions();
    for (const a of versions)
      for (const b of versions)
        assert.equal(compareDebVersions(a, b), -compareDebVersions(b, a) || 0, `${a} ${b}`);
  });

  it("know the rules users rely on", () => {
    assert.equal(compareDebVersions("3.0.14-1~deb12u1", "3.0.15-1~deb12u1"), -1);
    assert.equal(compareDebVersions("1.0~rc1", "1.0"), -1);
    assert.equal(compareDebVersions("1:1.0", "2.0"), 1);
    assert.equal(compareDebVersions("1.0", "1.0-0"), 0);
    assert.equal(compareDebVersions("1.0a", "1.0+"), -1);
  });
});

describe("RPM versions", () => {
  // rpm's own rpmvercmp cases (tests/rpmvercmp.at), the caret cases of rpm 4.15 and EVRs.
  const cases: [string, string, number][] = [
    ["1.0", "1.0", 0],
    ["1.0", "2.0", -1],
    ["2.0.1", "2.0", 1],
    ["2.0.1a", "2.0.1", 1],
    ["5.5p1", "5.5p10", -1],
    ["10xyz", "10.1xyz", -1],
    ["xyz10", "xyz10.1", -1],
    ["xyz.4", "8", -1],
    ["xyz.4", "2", -1],
    ["6.0.rc1", "6.0", 1],
    ["10b2", "10a1", 1],
    ["1.0a", "1.0aa", -1],
    ["10.0001", "10.1", 0],
    ["10.0001", "10.0039", -1],
    ["4.999.9", "5.0", -1],
    ["20101121", "20101122", -1],
    ["2.0", "2_0", 0],
    ["a+", "a_", 0],
    ["_+", "+_", 0],
    ["1.0~rc1", "1.0", -1],
    ["1.0~rc1", "1.0~rc2", -1],
    ["1.0~rc1~git123", "1.0~rc1", -1],
    ["1.0^", "1.0", 1],
    ["1.0^git1", "1.0", 1],
    ["1.0^git1", "1.01", -1],
    ["1.0^20160101", "1.0^20160102", -1],
    ["1.0^20160101^git1", "1.0^20160101", 1],
    ["1.0~rc1^git1", "1.0~rc1", 1],
    ["1.0^git1~pre", "1.0^git1", -1],
    ["1.0~rc1^git1", "1.0", -1],
    // EVRs: epoch first, then version, then release.
    ["1:1.0-1", "2.0-1", 1],
    ["0:1.0-1", "1.0-1", 0],
    ["3.0.7-24.el9", "3.0.7-25.el9", -1],
    ["3.0.7-24.el9", "3.0.7-24.el9_2", -1],
    ["1.0-1.fc39", "1.0-1.fc40", -1],
  ];
  for (const [a, b, want] of cases)
    it(`${a} vs ${b} is ${want}`, () => {
      assert.equal(compareRpmVersions(a, b), want);
      assert.equal(compareRpmVersions(b, a), -want || 0);
    });
});

describe("Alpine versions", () => {
  // Pairs from apk-tools' test/version.data, and the suffix and revision rules.
  const cases: [string, string, number][] = [
    ["2.34", "0.1.0_alpha", 1],
    ["0.1.0_alpha2", "0.1.0_alpha", 1],
    ["1.1", "1.1_alpha1", 1],
    ["1.2.1", "1.2", 1],
    ["1.2", "1.3_alpha", -1],
    ["1.0.4-r3", "1.0.4-r4", -1],
    ["2.3.0b-r1", "2.3.0b-r2", -1],
    ["0.12.3", "0.12", 1],
    ["3.1_p16", "3.1_p17", -1],
    ["1.06-r6", "006", -1],
    ["1.2.2-r1", "1.2.2", 1],
    ["2.01.01_alpha10", "0.94", 1],
    ["1.39", "1.00_beta2", 1],
    ["1.02", "1.03-r1", -1],
    ["2.5.1-r8", "2.5.1a-r1", -1],
    ["1.7", "1.7b", -1],
    ["1.8.5", "1.8.5_p2", -1],
    ["4.5_p1-r1", "4.5_p1", 1],
    ["0.9.8c-r1", "0.9.8d", -1],
    ["20060720", "3.0.20060720", 1],
    ["1.3.5-r10", "1.3.5-r8", 1],
    ["0.10.0", "0.10.1_rc1", -1],
    ["2.9.11_pre20051101-r3", "2.9.11_pre20051101", 1],
    ["0.20070118", "0.20070207_rc1", -1],
    ["1.0_p10-r0", "1.0_p9-r0", 1],
    ["0.1.0_alpha_pre2", "0.1.0_alpha", -1],
    ["1.3_pre1-r1", "1.3.2", -1],
    ["1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0", -1],
    ["7.0.17", "7.0.174", -1],
    ["1.02.07", "1.02.10-r1", -1],
    ["1.2.07.8", "1.2.12.04", -1],
    ["1.0", "1.0bc", -1],
    ["0.2.0-r1", "0.2.0-r1", 0],
    ["3.0.15-r0", "3.0.14-r1", 1],
  ];
  for (const [a, b, want] of cases)
    it(`${a} vs ${b} is ${want}`, () => {
      assert.equal(compareApkVersions(a, b), want);
      assert.equal(compareApkVersions(b, a), -want || 0);
    });
});

describe("compareVersions", () => {
  it("orders by the package type's rules", () => {
    assert.equal(compareVersions("deb", "1.0~rc1", "1.0"), -1);
    assert.equal(compareVersions("rpm", "1.0~rc1", "1.0"), -1);
    assert.equal(compareVersions("apk", "1.2_rc1", "1.2"), -1);
    // apk 2's quirk: after a dotted zero, the zero's own digits end and the suffix follows a
    // number token, so "1.0_rc1" goes on where "1.0" ended and sorts after it.
    assert.equal(compareVersions("apk", "1.0_rc1", "1.0"), 1);
    assert.equal(compareVersions("rpm", "2.0", "2_0"), 0);
    assert.equal(compareVersions("deb", "2.0", "2_0"), -1);
  });
});
