// Which changes of the event stream reach a page: by gallery, definition, version and kind.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { matches, type Change, type Watch } from "./app/watch.ts";

const at = "2026-01-01T00:00:00.000Z";
const published: Change = { kind: "version.published", gallery: "demo", image: "web", version: "1.1.0", at };
const moved: Change = {
  kind: "channel.set",
  gallery: "demo",
  image: "web",
  version: "1.1.0",
  target: "prod",
  at,
};
const settings: Change = { kind: "image.updated", gallery: "demo", image: "web", at };
const members: Change = { kind: "member.set", gallery: "demo", at };
const elsewhere: Change = { kind: "version.published", gallery: "other", image: "web", version: "1.1.0", at };

describe("matches", () => {
  it("takes what a page shows and leaves the rest", () => {
    const table: [Watch | undefined, Change, boolean][] = [
      [undefined, elsewhere, true],
      [{ gallery: "demo" }, published, true],
      [{ gallery: "demo" }, elsewhere, false],
      [{ gallery: "demo", image: "web" }, published, true],
      [{ gallery: "demo", image: "api" }, published, false],
      // A change of the gallery itself concerns every page of it.
      [{ gallery: "demo", image: "api" }, members, true],
      [{ gallery: "demo", image: "web", version: "1.1.0" }, published, true],
      [{ gallery: "demo", image: "web", version: "1.0.0" }, published, false],
      // A definition's settings concern each of its versions' pages.
      [{ gallery: "demo", image: "web", version: "1.0.0" }, settings, true],
      [{ kinds: ["request.", "channel."] }, moved, true],
      [{ kinds: ["request.", "channel."] }, published, false],
      [{ gallery: "demo", kinds: ["channel."] }, { ...moved, gallery: "other" }, false],
    ];
    for (const [watch, change, want] of table)
      assert.equal(matches(watch, change), want, `${JSON.stringify(watch)} ${change.kind} ${change.gallery}`);
  });
});
