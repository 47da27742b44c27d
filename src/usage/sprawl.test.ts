import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nearIdentical, sharedDefinitions, type VersionContent } from "./sprawl.ts";

const v = (definition: string, version: string, sizes: Record<string, number>): VersionContent => {
  const [gallery = "", image = ""] = definition.split("/");
  return { gallery, image, version, sizes: new Map(Object.entries(sizes)) };
};

describe("sharedDefinitions", () => {
  it("pairs definitions that are mostly the same bytes, measured against the larger", () => {
    const pairs = sharedDefinitions([
      v("prod/web", "1.0.0", { base: 900, top1: 50 }),
      v("prod/web", "1.1.0", { base: 900, top2: 50 }),
      v("dev/web", "1.0.0", { base: 900, top3: 20 }),
      // Shares the base but is mostly its own bytes: not sprawl.
      v("prod/api", "1.0.0", { base: 900, big: 2000 }),
    ]);
    assert.deepEqual(pairs, [
      { a: "dev/web", b: "prod/web", sharedBytes: 900, aBytes: 920, bBytes: 1000, ratio: 0.9 },
    ]);
  });

  it("finds nothing among unrelated definitions or a single one", () => {
    assert.deepEqual(sharedDefinitions([v("a/x", "1.0.0", { p: 10 }), v("a/y", "1.0.0", { q: 10 })]), []);
    assert.deepEqual(sharedDefinitions([v("a/x", "1.0.0", { p: 10 }), v("a/x", "1.0.1", { p: 10 })]), []);
    assert.deepEqual(sharedDefinitions([]), []);
  });
});

describe("nearIdentical", () => {
  it("names consecutive versions of one definition that are at least 95 % the same", () => {
    const found = nearIdentical([
      v("prod/web", "1.0.0", { base: 990, a: 10 }),
      v("prod/web", "1.0.1", { base: 990, b: 10 }),
      v("prod/web", "2.0.0", { other: 1000 }),
      // Another definition: not compared with prod/web's last version.
      v("prod/zzz", "1.0.0", { other: 1000 }),
    ]);
    assert.deepEqual(found, [
      { gallery: "prod", image: "web", version: "1.0.1", previous: "1.0.0", sameBytes: 990, ratio: 0.99 },
    ]);
  });

  it("handles empty versions without dividing by zero", () => {
    assert.deepEqual(nearIdentical([v("a/x", "1.0.0", {}), v("a/x", "1.0.1", {})]), []);
  });
});
