import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lifecycleStep, retryDelay, sourceLifecycle, type SourceLifecycle } from "./state.ts";

describe("retryDelay", () => {
  it("doubles from the backoff and stops at the cap", () => {
    const options = { backoff: 5000, maxBackoff: 60_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, options)),
      [5000, 10_000, 20_000, 40_000, 60_000, 60_000],
    );
  });

  it("stays finite for any number of attempts", () => {
    assert.equal(retryDelay(10_000, { backoff: 1000, maxBackoff: 600_000 }), 600_000);
    assert.equal(retryDelay(0, { backoff: 1000, maxBackoff: 600_000 }), 1000);
  });
});

describe("lifecycleStep", () => {
  const published: SourceLifecycle = { state: "published" };
  const deprecated: SourceLifecycle = {
    state: "deprecated",
    deprecation: { reason: "old", replacement: "2.0.0" },
  };
  const revoked: SourceLifecycle = { state: "revoked", revokeReason: "CVE" };
  const deleted: SourceLifecycle = { state: "deleted" };
  const cases: [string, SourceLifecycle, string, ReturnType<typeof lifecycleStep>][] = [
    ["in step", published, "published", undefined],
    [
      "end of life counts as published",
      deprecated,
      "end-of-life",
      { action: "deprecate", reason: "old", replacement: "2.0.0" },
    ],
    [
      "deprecated at the source",
      deprecated,
      "published",
      { action: "deprecate", reason: "old", replacement: "2.0.0" },
    ],
    ["revoked at the source", revoked, "deprecated", { action: "revoke", reason: "CVE" }],
    ["revoked in step", revoked, "revoked", undefined],
    ["deleted at the source", deleted, "deprecated", { action: "delete" }],
    ["restored at the source", published, "deleted", { action: "restore" }],
    ["revoked while deleted there: restore first", revoked, "deleted", { action: "restore" }],
    ["a revoked site version cannot come back", published, "revoked", undefined],
    ["no undeprecation", published, "deprecated", undefined],
  ];
  for (const [name, source, site, want] of cases)
    it(name, () => {
      assert.deepEqual(lifecycleStep(source, site), want);
    });
});

describe("sourceLifecycle", () => {
  it("reads the row and fingerprints what is mirrored", () => {
    const a = sourceLifecycle({
      state: "deprecated",
      deprecation: JSON.stringify({ reason: "old", replacement: "2.0.0", at: 1 }),
      revoke_reason: null,
    });
    assert.deepEqual(a.lifecycle, {
      state: "deprecated",
      deprecation: { reason: "old", replacement: "2.0.0" },
    });
    const b = sourceLifecycle({ state: "revoked", deprecation: null, revoke_reason: "CVE" });
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.equal(
      b.fingerprint,
      sourceLifecycle({ state: "revoked", deprecation: null, revoke_reason: "CVE" }).fingerprint,
    );
  });

  it("does not fail on a damaged deprecation", () => {
    assert.deepEqual(
      sourceLifecycle({ state: "deprecated", deprecation: "{", revoke_reason: null }).lifecycle,
      {
        state: "deprecated",
        deprecation: {},
      },
    );
  });
});
