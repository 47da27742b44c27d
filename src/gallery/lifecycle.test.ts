import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeLatest, effectiveState, pullVerdict } from "./lifecycle.ts";
import type { ImageVersion } from "./model.ts";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const DAY = 86_400_000;

describe("effective state", () => {
  it("keeps the stored state while nothing is due", () => {
    assert.equal(
      effectiveState({ storedState: "published", eol: NOW + DAY, revokeAt: NOW + DAY }, NOW),
      "published",
    );
    assert.equal(effectiveState({ storedState: "deprecated", eol: null, revokeAt: null }, NOW), "deprecated");
  });
  it("applies a due revocation and a passed EOL at once", () => {
    assert.equal(effectiveState({ storedState: "published", eol: null, revokeAt: NOW }, NOW), "revoked");
    assert.equal(
      effectiveState({ storedState: "deprecated", eol: NOW - 1, revokeAt: null }, NOW),
      "end-of-life",
    );
    assert.equal(
      effectiveState({ storedState: "published", eol: NOW - 1, revokeAt: NOW - 1 }, NOW),
      "revoked",
    );
  });
  it("never brings a deleted or revoked version back", () => {
    assert.equal(effectiveState({ storedState: "deleted", eol: null, revokeAt: null }, NOW), "deleted");
    assert.equal(effectiveState({ storedState: "revoked", eol: NOW + DAY, revokeAt: null }, NOW), "revoked");
  });
});

describe("latest", () => {
  const v = (version: string, state: ImageVersion["state"] = "published", excludeFromLatest = false) => ({
    version,
    state,
    excludeFromLatest,
  });
  it("is the highest published version, numerically", () => {
    assert.equal(computeLatest([v("1.9.0"), v("1.10.0"), v("1.2.0")])?.version, "1.10.0");
  });
  it("skips excluded, deprecated, revoked, end-of-life and deleted versions", () => {
    const all = [
      v("1.0.0"),
      v("2.0.0", "published", true),
      v("3.0.0", "deprecated"),
      v("4.0.0", "revoked"),
      v("5.0.0", "end-of-life"),
      v("6.0.0", "deleted"),
    ];
    assert.equal(computeLatest(all)?.version, "1.0.0");
  });
  it("is undefined when nothing qualifies", () => {
    assert.equal(computeLatest([v("1.0.0", "revoked")]), undefined);
  });
});

describe("pull verdict", () => {
  const base = { gallery: "prod", image: "web", version: "1.0.0", eol: "2026-01-01T00:00:00.000Z" } as const;
  it("warns on deprecated versions naming the replacement", () => {
    const verdict = pullVerdict(
      "enforce",
      { ...base, state: "deprecated", deprecation: { reason: "old TLS", at: "" } },
      "1.1.0",
    );
    assert.deepEqual(verdict, { warnings: ["prod/web:1.0.0 is deprecated: old TLS; use prod/web:1.1.0"] });
  });
  it("denies revoked and end-of-life versions in enforce mode and warns in warn mode", () => {
    const revoked = { ...base, state: "revoked" as const, revocation: { reason: "CVE-1", at: "", by: "a" } };
    assert.match(pullVerdict("enforce", revoked, undefined).deny ?? "", /revoked: CVE-1/);
    assert.equal(pullVerdict("warn", revoked, undefined).deny, undefined);
    assert.match(pullVerdict("warn", revoked, undefined).warnings?.[0] ?? "", /revoked/);
    assert.match(
      pullVerdict("enforce", { ...base, state: "end-of-life" }, "2.0.0").deny ?? "",
      /end of life on 2026-01-01; use prod\/web:2.0.0/,
    );
  });
  it("lets everything through in off mode", () => {
    assert.deepEqual(pullVerdict("off", { ...base, state: "revoked" }, undefined), {});
  });
});
