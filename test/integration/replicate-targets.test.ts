// Replication targets in one in-process server whose sites cannot be reached: a definition's
// sites become a new version's targets, readers see only their galleries' copies, a failed copy
// says why and when it is tried again, and a purged version's copies are marked for removal
// (and stay, with the reason, while the site cannot be reached). On SQLite and PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { authYaml, galleryApi, pushImage } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { freePort } from "../helpers/ports.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";

const DAY = 86_400_000;
let s: InProcess;
let api: ReturnType<typeof galleryApi>;
let clock = Date.now();

function replicationTargets(database: () => Promise<string | undefined>): void {
  before(async () => {
    // Nothing listens there: every copy fails.
    const closed = await freePort();
    const url = await database();
    s = await startInProcess({
      ...(url === undefined ? {} : { database: url }),
      now: () => clock,
      yaml: await authYaml(
        ["alice", "bob"],
        [
          "sites:",
          `  eu: { url: "http://127.0.0.1:${closed}", kind: strata, region: eu-west }`,
          `  dr: { url: "http://127.0.0.1:${closed}", kind: registry }`,
          "replication: { interval: 50ms, backoff: 1h, maxBackoff: 2h }",
          "",
        ].join("\n"),
      ),
    });
    api = galleryApi(s.server.app);
    for (const [gallery, user] of [
      ["apps", "alice"],
      ["ops", "bob"],
    ] as const) {
      assert.equal((await api("POST", "/galleries", { name: gallery, restoreDays: 1 }, user)).status, 201);
      const defined = await api(
        "POST",
        `/galleries/${gallery}/images`,
        { name: "web", kind: "container", replicateTo: ["eu", "dr"] },
        user,
      );
      assert.equal(defined.status, 201, JSON.stringify(defined.body));
      await pushImage(s.server.app, `${gallery}/web`, "build", `${gallery}-1`, { user });
      const published = await api(
        "POST",
        `/galleries/${gallery}/images/web/versions`,
        { version: "1.0.0", from: `${gallery}/web:build` },
        user,
      );
      assert.equal(published.status, 201, JSON.stringify(published.body));
    }
  });

  after(async () => {
    await s?.stop();
  });

  async function failedEverywhere(gallery: string, user: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await api(
        "GET",
        `/galleries/${gallery}/images/web/versions/1.0.0/replication`,
        undefined,
        user,
      );
      if (rows.body.every((r: { state: string }) => r.state === "failed")) return rows.body;
      if (Date.now() > deadline) throw new Error(`still not failed: ${JSON.stringify(rows.body)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  describe("replication targets", () => {
    it("makes the definition's sites a new version's targets, failing with the reason and a retry time", async () => {
      const rows = await failedEverywhere("apps", "alice");
      assert.deepEqual(
        rows.map((r: { site: string }) => r.site),
        ["dr", "eu"],
      );
      for (const row of rows) {
        assert.match(row.error, /Cannot reach/);
        assert.equal(row.attempts, 1);
        // The first retry waits the configured backoff (1 h).
        assert.equal(Date.parse(row.nextAttemptAt) - Date.parse(row.updatedAt), 3_600_000);
      }
      assert.equal(rows.find((r: { site: string }) => r.site === "eu").region, "eu-west");
    });

    it("lists only the copies of galleries the caller may read", async () => {
      await failedEverywhere("ops", "bob");
      const alice = await api("GET", "/replication", undefined, "alice");
      assert.equal(alice.status, 200);
      assert.deepEqual([...new Set(alice.body.map((r: { gallery: string }) => r.gallery))], ["apps"]);
      const bob = await api("GET", "/replication?state=failed", undefined, "bob");
      assert.deepEqual([...new Set(bob.body.map((r: { gallery: string }) => r.gallery))], ["ops"]);
      assert.equal((await api("GET", "/replication?gallery=apps", undefined, "bob")).status, 404);
      assert.equal((await api("GET", "/replication?state=lost", undefined, "alice")).status, 400);
      assert.equal((await api("GET", "/replication")).status, 401);
    });

    it("refuses target changes by readers and of versions that do not exist", async () => {
      assert.equal((await api("PUT", "/galleries/ops/members/alice", { role: "reader" }, "bob")).status, 200);
      const refused = await api(
        "PUT",
        "/galleries/ops/images/web/versions/1.0.0/replication",
        { sites: [] },
        "alice",
      );
      assert.equal(refused.status, 403);
      const missing = await api(
        "PUT",
        "/galleries/ops/images/web/versions/9.9.9/replication",
        { sites: ["eu"] },
        "bob",
      );
      assert.equal(missing.status, 404);
      const malformed = await api(
        "PUT",
        "/galleries/ops/images/web/versions/1.0.0/replication",
        { sites: "eu" },
        "bob",
      );
      assert.equal(malformed.status, 400);
      const rows = await api("GET", "/galleries/ops/images/web/versions/1.0.0/replication", undefined, "bob");
      assert.equal(rows.body.length, 2);
    });

    it("marks a purged version's copies for removal", async () => {
      const deleted = await api(
        "DELETE",
        "/galleries/apps/images/web/versions/1.0.0?force=true",
        undefined,
        "alice",
      );
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      clock += 2 * DAY;
      const swept = await s.server.gallery.sweep();
      assert.equal(swept.purged, 1);
      const rows = await api("GET", "/replication?gallery=apps&state=removing", undefined, "alice");
      assert.deepEqual(
        rows.body.map((r: { version: string; site: string }) => `${r.version}@${r.site}`),
        ["1.0.0@dr", "1.0.0@eu"],
      );
    });
  });
}

describe("on SQLite", () => {
  replicationTargets(async () => undefined);
});

describe("on PostgreSQL", () => {
  let pg: Postgres | undefined;
  replicationTargets(async () => {
    pg = await startPostgres();
    return pg.url;
  });
  // After the server's own: it closes its connections first.
  after(async () => {
    await pg?.stop();
  });
});
