// Concurrency: many publishers racing for one version number, many movers of one channel.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiError, type Harness } from "./harness.ts";

export function concurrencySuite(h: Harness): void {
  describe("concurrency", () => {
    it("lets exactly one of 20 concurrent publishers of a version number win", async () => {
      await h.setup("race");
      const digests: string[] = [];
      for (let i = 0; i < 20; i++) digests.push(await h.push("builds/race", `c${i}`, `race-${i}`));
      const answers = await Promise.all(
        digests.map((d) =>
          h.api(
            "POST",
            "/galleries/race/images/web/versions",
            { version: "5.0.0", from: `builds/race@${d}` },
            "carol",
          ),
        ),
      );
      const winners = answers.filter((a) => a.status === 201);
      assert.equal(winners.length, 1, answers.map((a) => a.status).join(","));
      for (const loser of answers.filter((a) => a.status !== 201)) {
        assert.equal(loser.status, 409);
        assert.match(
          apiError(loser).message,
          /Version "race\/web:5\.0\.0" already exists with other content/,
        );
      }
      const winner = winners[0]?.body.digest as string;
      assert.equal(
        (await h.api("GET", "/galleries/race/images/web/versions/5.0.0", undefined, "dave")).body.digest,
        winner,
      );
      assert.equal((await h.pull("race/web", "5.0.0")).digest, winner);
      const published = (
        await h.api("GET", "/galleries/race/audit?action=version.published", undefined, "dave")
      ).body;
      assert.equal(published.length, 1);
    });

    it("keeps a linear channel history under 20 concurrent moves", async () => {
      await h.setup("movers");
      const versions = ["1.0.0", "1.1.0", "1.2.0", "1.3.0"];
      for (const v of versions) await h.publish("movers", "web", v);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          h.api(
            "PUT",
            "/galleries/movers/images/web/channels/edge",
            { version: versions[i % versions.length] },
            "carol",
          ),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(20).fill(200),
        `${JSON.stringify(answers.filter((a) => a.status !== 200).map((a) => a.body))}\n${h.server.errors().join("").slice(-3000)}`,
      );
      const history = (
        await h.api("GET", "/galleries/movers/images/web/channels/edge/history", undefined, "dave")
      ).body as {
        seq: number;
        version: string;
        previous: string | null;
      }[];
      // Setting the version a channel already has is no move: at most 20 entries, never two
      // of the same version in a row, numbered without gaps, each naming the one before.
      const ordered = [...history].reverse();
      assert.ok(ordered.length >= 2 && ordered.length <= 20, `${ordered.length} moves`);
      assert.deepEqual(
        ordered.map((m) => m.seq),
        Array.from({ length: ordered.length }, (_, i) => i + 1),
      );
      assert.equal(ordered[0]?.previous, null);
      for (let i = 1; i < ordered.length; i++) {
        assert.equal(ordered[i]?.previous, ordered[i - 1]?.version, `move ${i + 1}`);
        assert.notEqual(ordered[i]?.version, ordered[i - 1]?.version, `move ${i + 1}`);
      }
      const channel = (await h.api("GET", "/galleries/movers/images/web/channels/edge", undefined, "dave"))
        .body;
      assert.equal(channel.version, ordered.at(-1)?.version);
      assert.equal(channel.seq, ordered.length);
    });

    it("changes only the configuration when a channel is set to the version it has", async () => {
      await h.setup("same");
      await h.publish("same", "web", "1.0.0");
      const path = "/galleries/same/images/web/channels/stable";
      assert.equal((await h.api("PUT", path, { version: "1.0.0" }, "carol")).status, 200);
      const again = await h.api("PUT", path, { version: "1.0.0" }, "carol");
      assert.equal(again.status, 200);
      assert.equal(again.body.channel.seq, 1, "no move");
      const configured = await h.api("PUT", path, { version: "1.0.0", approvals: 2 }, "alice");
      assert.equal(configured.status, 200, JSON.stringify(configured.body));
      const { version, seq, approvals } = configured.body.channel;
      assert.deepEqual([version, seq, approvals], ["1.0.0", 1, 2]);
      const history = (await h.api("GET", `${path}/history`, undefined, "dave")).body as unknown[];
      assert.equal(history.length, 1);
      const audits = (
        await h.api("GET", "/galleries/same/audit?action=channel.configured", undefined, "dave")
      ).body as { before: unknown; after: unknown }[];
      assert.equal(audits.length, 1, "the no-op set is not audited");
      assert.deepEqual(audits[0]?.after, { approvals: 2 });
    });
  });
}
