// Retention end to end through the API and the sweep: a dry run lists and changes nothing, an
// apply changes exactly what it listed with audit entries, channels and base images protect, the
// sweep applies the rules on its own as system, and bad input changes nothing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ApiAnswer } from "../../helpers/gallery.ts";
import { apiError, type Harness } from "./harness.ts";

const DAY = 86_400_000;

interface AuditEntry {
  action: string;
  actor: string;
  version?: string;
  after?: ApiAnswer["body"];
}

interface Outcome {
  version: string;
  action: string;
  rule: string;
  reason: string;
  status: string;
}

export function retentionSuite(h: Harness): void {
  /** Every version of the definition (deleted ones included) and its state. */
  async function states(gallery: string, image = "web"): Promise<Record<string, string>> {
    const answer = await h.api(
      "GET",
      `/galleries/${gallery}/images/${image}/versions?deleted=true`,
      undefined,
      "dave",
    );
    assert.equal(answer.status, 200);
    return Object.fromEntries(
      (answer.body as { version: string; state: string }[]).map((v) => [v.version, v.state]),
    );
  }

  async function auditEntries(gallery: string): Promise<AuditEntry[]> {
    const answer = await h.api("GET", `/galleries/${gallery}/audit?limit=1000`, undefined, "dave");
    assert.equal(answer.status, 200);
    return answer.body;
  }

  /** A pull of a version at `at`, as the usage counter records it. */
  async function recordPull(gallery: string, image: string, version: string, at: number): Promise<void> {
    const { connectDatabase } = await import("../../../src/store/index.ts");
    const { db, release } = connectDatabase<{
      gallery_pulls: {
        gallery: string;
        image: string;
        version: string;
        site: string;
        day: number;
        count: number;
        last_at: number;
      };
    }>(h.databaseUrl);
    try {
      await db
        .insertInto("gallery_pulls")
        .values({ gallery, image, version, site: "local", day: at - (at % DAY), count: 3, last_at: at })
        .execute();
    } finally {
      await release();
    }
  }

  const retention = (gallery: string, image: string | undefined, dryRun: boolean, user: string) =>
    h.api(
      "POST",
      `/galleries/${gallery}${image === undefined ? "" : `/images/${image}`}/retention${dryRun ? "?dryRun=true" : ""}`,
      {},
      user,
    );
  const outcomes = (body: ApiAnswer["body"]): Outcome[] =>
    body.definitions.flatMap((d: { actions: Outcome[] }) => d.actions);

  describe("retention", () => {
    it("dry run lists and changes nothing; applying changes exactly what it listed, audited; again does nothing", async () => {
      await h.setup("keep");
      for (const version of ["1.0.0", "1.1.0", "1.2.0", "1.10.0", "2.0.0"])
        await h.publish("keep", "web", version);
      const set = await h.api(
        "PUT",
        "/galleries/keep/images/web/channels/production",
        { version: "1.0.0" },
        "carol",
      );
      assert.equal(set.status, 200);
      const rules = await h.api(
        "PATCH",
        "/galleries/keep/images/web",
        { retention: { keepLast: 2 } },
        "carol",
      );
      assert.equal(rules.status, 200);
      assert.deepEqual(rules.body.retention, { keepLast: 2 });
      const before = await states("keep");
      const audited = (await auditEntries("keep")).length;

      // A reader may look; nothing changes.
      const dry = await retention("keep", "web", true, "dave");
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      assert.equal(dry.body.dryRun, true);
      assert.deepEqual(
        outcomes(dry.body).map((a) => `${a.version} ${a.action} ${a.rule} ${a.status}`),
        ["1.2.0 deprecate keepLast planned", "1.1.0 deprecate keepLast planned"],
      );
      assert.match(
        outcomes(dry.body)[0]?.reason ?? "",
        /3rd newest published version; the newest 2 are kept/,
      );
      assert.deepEqual(dry.body.definitions[0].held, [
        {
          version: "1.0.0",
          action: "deprecate",
          rule: "keepLast",
          reason: 'channel "production" points at it',
        },
      ]);
      assert.deepEqual(await states("keep"), before);
      assert.equal((await auditEntries("keep")).length, audited);

      // Applying needs the publisher role.
      const refused = await retention("keep", "web", false, "dave");
      assert.equal(refused.status, 403);
      assert.equal(apiError(refused).code, "FORBIDDEN");
      assert.deepEqual(await states("keep"), before);

      const applied = await retention("keep", "web", false, "carol");
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.equal(applied.body.dryRun, false);
      assert.deepEqual(
        outcomes(applied.body).map((a) => `${a.version} ${a.action} ${a.status}`),
        ["1.2.0 deprecate applied", "1.1.0 deprecate applied"],
      );
      const after = await states("keep");
      assert.deepEqual(
        Object.keys(after).filter((v) => after[v] !== before[v]),
        ["1.2.0", "1.1.0"],
      );
      assert.equal(after["1.2.0"], "deprecated");
      const version = await h.api("GET", "/galleries/keep/images/web/versions/1.1.0", undefined, "dave");
      assert.equal(version.body.deprecation.reason, "retention: keepLast 2");
      const pulled = await h.pull("keep/web", "1.1.0");
      assert.equal(pulled.status, 200);
      assert.match(pulled.warning ?? "", /deprecated: retention: keepLast 2; use keep\/web:2\.0\.0/);
      const entries = await auditEntries("keep");
      assert.equal(entries.length, audited + 2);
      for (const entry of entries.slice(0, 2)) {
        assert.equal(entry.action, "version.deprecated");
        assert.equal(entry.actor, "carol");
        assert.equal(entry.after.retention.rule, "keepLast");
        assert.match(entry.after.retention.reason, /newest published version/);
      }
      await h.hooks.waitFor((received) =>
        received.some((r) => r.body.includes('"version.deprecated"') && r.body.includes('"keep"')),
      );

      // Nothing is left to do: a second run changes nothing.
      const again = await retention("keep", "web", false, "carol");
      assert.equal(again.status, 200);
      assert.deepEqual(outcomes(again.body), []);
      assert.deepEqual(await states("keep"), after);
      assert.equal((await auditEntries("keep")).length, audited + 2);
    });

    it("the sweep applies the rules on its own as system: EOL and unused deletions; channels, bases and the newest are kept", async () => {
      await h.setup("sweepret");
      const eol = new Date(Date.now() + 10 * DAY).toISOString().slice(0, 10);
      await h.publish("sweepret", "web", "1.0.0", { eol });
      const base = await h.publish("sweepret", "web", "1.1.0");
      await h.publish("sweepret", "web", "1.2.0");
      await h.publish("sweepret", "web", "1.3.0");
      await h.publish("sweepret", "web", "2.0.0");
      await h.api("PUT", "/galleries/sweepret/images/web/channels/stable", { version: "1.3.0" }, "carol");
      // Another definition holds a version built on 1.1.0.
      const app = await h.api(
        "POST",
        "/galleries/sweepret/images",
        { name: "app", kind: "container" },
        "carol",
      );
      assert.equal(app.status, 201);
      const child = await h.push("builds/sweepret-app", "c1", "sweepret-app-child", {
        "org.opencontainers.image.base.digest": base,
      });
      const published = await h.api(
        "POST",
        "/galleries/sweepret/images/app/versions",
        { version: "1.0.0", from: `builds/sweepret-app@${child}` },
        "carol",
      );
      assert.equal(published.status, 201, JSON.stringify(published.body));
      assert.equal(published.body.baseDigest, base);
      const rules = await h.api(
        "PATCH",
        "/galleries/sweepret/images/web",
        { retention: { deleteAfterEolDays: 30, deleteUnusedDays: 60 } },
        "carol",
      );
      assert.equal(rules.status, 200);
      h.advance(100 * DAY);
      try {
        // 1.2.0 was pulled five days ago; the others never.
        await recordPull("sweepret", "web", "1.2.0", Date.now() + 95 * DAY);
        const dry = await retention("sweepret", undefined, true, "dave");
        assert.equal(dry.status, 200, JSON.stringify(dry.body));
        assert.deepEqual(
          dry.body.definitions.map((d: { image: string }) => d.image),
          ["web"],
        );
        assert.deepEqual(
          outcomes(dry.body).map((a) => `${a.version} ${a.action} ${a.rule}`),
          ["1.0.0 delete deleteAfterEolDays"],
        );
        assert.deepEqual(
          dry.body.definitions[0].held.map(
            (x: { version: string; reason: string }) => `${x.version}: ${x.reason}`,
          ),
          [
            "2.0.0: it is the latest version",
            '1.3.0: channel "stable" points at it',
            "1.1.0: sweepret/app:1.0.0 is built on it",
          ],
        );
        const audited = (await auditEntries("sweepret")).length;

        const swept = await h.server.server.gallery.sweep();
        assert.ok(swept.deleted >= 1, JSON.stringify(swept));
        assert.equal(swept.retentionFailed, 0);
        assert.deepEqual(await states("sweepret"), {
          "2.0.0": "published",
          "1.3.0": "published",
          "1.2.0": "published",
          "1.1.0": "published",
          "1.0.0": "deleted",
        });
        const entries = await auditEntries("sweepret");
        assert.equal(entries.length, audited + 1);
        assert.equal(entries[0]?.action, "version.deleted");
        assert.equal(entries[0]?.actor, "system");
        assert.equal(entries[0]?.version, "1.0.0");
        assert.equal(entries[0]?.after.retention.rule, "deleteAfterEolDays");
        assert.equal(entries[0]?.after.deletion.by, "system");
        assert.equal((await h.pull("sweepret/web", "1.0.0")).status, 403);
        await h.hooks.waitFor((received) =>
          received.some(
            (r) =>
              r.body.includes('"version.deleted"') &&
              r.body.includes('"sweepret"') &&
              r.body.includes('"rule":"deleteAfterEolDays"'),
          ),
        );

        // A restore is not undone by the next sweep: the grace starts again from it.
        const restored = await h.api(
          "POST",
          "/galleries/sweepret/images/web/versions/1.0.0/restore",
          {},
          "carol",
        );
        assert.equal(restored.status, 200);
        await h.server.server.gallery.sweep();
        assert.equal((await states("sweepret"))["1.0.0"], "end-of-life");

        // Past the unused limit 1.2.0 goes too; what protects the others still does.
        h.advance(60 * DAY);
        const later = await h.server.server.gallery.sweep();
        assert.ok(later.deleted >= 1, JSON.stringify(later));
        assert.deepEqual(await states("sweepret"), {
          "2.0.0": "published",
          "1.3.0": "published",
          "1.2.0": "deleted",
          "1.1.0": "published",
          "1.0.0": "deleted",
        });
        const unused = (await auditEntries("sweepret")).find((e) => e.version === "1.2.0");
        assert.equal(unused?.after.retention.rule, "deleteUnusedDays");
        assert.match(
          unused?.after.retention.reason,
          /last pulled \d{4}-\d\d-\d\d, 65 days ago; limit 60 days/,
        );
        // Once everything is applied a sweep changes nothing more.
        const idle = await h.server.server.gallery.sweep();
        assert.equal(idle.deprecated + idle.deleted, 0, JSON.stringify(idle));
      } finally {
        h.advance(-160 * DAY);
      }
    });

    it("concurrent runs apply each action once", async () => {
      await h.setup("twice");
      for (const version of ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]) await h.publish("twice", "web", version);
      await h.api("PATCH", "/galleries/twice/images/web", { retention: { keepLast: 1 } }, "carol");
      const [a, b] = await Promise.all([
        retention("twice", "web", false, "carol"),
        retention("twice", undefined, false, "alice"),
        h.server.server.gallery.sweep(),
      ]);
      assert.equal(a?.status, 200);
      assert.equal(b?.status, 200);
      const done = [...outcomes(a?.body), ...outcomes(b?.body)];
      assert.ok(
        done.every((x) => x.status === "applied" || x.status === "skipped"),
        JSON.stringify(done),
      );
      const entries = (await auditEntries("twice")).filter((e) => e.action === "version.deprecated");
      assert.deepEqual(entries.map((e) => e.version).sort(), ["1.0.0", "1.1.0", "1.2.0"]);
      assert.deepEqual(await states("twice"), {
        "2.0.0": "published",
        "1.2.0": "deprecated",
        "1.1.0": "deprecated",
        "1.0.0": "deprecated",
      });
    });

    it("names a version built on one only to callers who may read its gallery", async () => {
      await h.setup("shown");
      const base = await h.publish("shown", "web", "1.0.0");
      await h.publish("shown", "web", "2.0.0");
      await h.api("PATCH", "/galleries/shown/images/web", { retention: { keepLast: 1 } }, "carol");
      // A gallery only alice belongs to holds a version built on 1.0.0.
      assert.equal((await h.api("POST", "/galleries", { name: "shown-private" }, "alice")).status, 201);
      await h.api("POST", "/galleries/shown-private/images", { name: "app", kind: "container" }, "alice");
      const child = await h.push("builds/shown-app", "c1", "shown-app-child", {
        "org.opencontainers.image.base.digest": base,
      });
      const published = await h.api(
        "POST",
        "/galleries/shown-private/images/app/versions",
        { version: "1.0.0", from: `builds/shown-app@${child}` },
        "alice",
      );
      assert.equal(published.status, 201, JSON.stringify(published.body));
      const held = async (user: string) =>
        (await retention("shown", "web", true, user)).body.definitions[0].held.map(
          (x: { reason: string }) => x.reason,
        );
      assert.deepEqual(await held("dave"), ["a version of another gallery is built on it"]);
      assert.deepEqual(await held("alice"), ["shown-private/app:1.0.0 is built on it"]);
    });

    it("a definition whose retention fails is counted and logged; the others go on", async () => {
      await h.setup("broken");
      await h.publish("broken", "web", "1.0.0");
      await h.setup("fine");
      await h.publish("fine", "web", "1.0.0");
      await h.publish("fine", "web", "2.0.0");
      await h.api("PATCH", "/galleries/fine/images/web", { retention: { keepLast: 1 } }, "carol");
      // Rules the API would refuse, as an older or damaged row might hold them.
      const { connectDatabase } = await import("../../../src/store/index.ts");
      const { db, release } = connectDatabase<{
        gallery_images: { gallery: string; name: string; metadata: string };
      }>(h.databaseUrl);
      try {
        await db
          .updateTable("gallery_images")
          .set({ metadata: JSON.stringify({ retention: { deleteUnusedDays: 0 } }) })
          .where("gallery", "=", "broken")
          .where("name", "=", "web")
          .execute();
      } finally {
        await release();
      }
      try {
        const swept = await h.server.server.gallery.sweep();
        assert.ok(swept.retentionFailed >= 1, JSON.stringify(swept));
        assert.ok(swept.deprecated >= 1, JSON.stringify(swept));
        assert.deepEqual(await states("fine"), { "2.0.0": "published", "1.0.0": "deprecated" });
        assert.deepEqual(await states("broken"), { "1.0.0": "published" });
        assert.ok(h.server.errors().some((line) => line.includes("retention of a definition failed")));
        // A gallery's run reports it beside the others; asked for alone, it is refused.
        const gallery = await retention("broken", undefined, true, "dave");
        assert.equal(gallery.status, 200);
        assert.match(gallery.body.definitions[0].error, /^Invalid retention rule deleteUnusedDays/);
        const asked = await retention("broken", "web", true, "dave");
        assert.equal(asked.status, 400);
        assert.match(
          apiError(asked).message,
          /^Invalid retention rule deleteUnusedDays "0": expected an integer of at least 1$/,
        );
      } finally {
        const cleared = await h.api("PATCH", "/galleries/broken/images/web", { retention: {} }, "carol");
        assert.equal(cleared.status, 200);
      }
    });

    it("refuses bad rules and bad requests clearly, changing nothing", async () => {
      await h.setup("badret");
      await h.publish("badret", "web", "1.0.0");
      const definition = await h.api("GET", "/galleries/badret/images/web", undefined, "dave");
      const audited = (await auditEntries("badret")).length;
      for (const retention of [
        { deleteUnusedDays: -1 },
        { deprecateAfterDays: 0 },
        { deleteUnusedDays: 0 },
        { keepLast: 0 },
        { deleteAfterEolDays: -3 },
        { keepLast: 1.5 },
        { keepLast: "3" },
        { keepForever: true },
      ]) {
        const answer = await h.api("PATCH", "/galleries/badret/images/web", { retention }, "carol");
        assert.equal(answer.status, 400, JSON.stringify(retention));
        assert.equal(apiError(answer).code, "INVALID");
        assert.match(apiError(answer).message, /retention/);
      }
      assert.deepEqual(
        (await h.api("GET", "/galleries/badret/images/web", undefined, "dave")).body,
        definition.body,
      );

      // No rules, an unknown definition or gallery, a bad query or body: refused.
      const none = await retention("badret", "web", true, "dave");
      assert.equal(none.status, 400);
      assert.match(apiError(none).message, /has no retention rules/);
      const unknown = await retention("badret", "nope", false, "carol");
      assert.equal(unknown.status, 404);
      assert.match(apiError(unknown).message, /Image definition "badret\/nope" does not exist/);
      assert.equal((await retention("nope", undefined, true, "dave")).status, 404);
      assert.equal((await retention("badret", "web", true, "eve")).status, 404);
      const query = await h.api("POST", "/galleries/badret/images/web/retention?dryRun=maybe", {}, "carol");
      assert.equal(query.status, 400);
      const extra = await h.api("POST", "/galleries/badret/retention?now=1", {}, "carol");
      assert.equal(extra.status, 400);
      const body = await h.api("POST", "/galleries/badret/retention", { keepLast: 1 }, "carol");
      assert.equal(body.status, 400);
      // A gallery without rules has nothing to do.
      const empty = await retention("badret", undefined, false, "carol");
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, { dryRun: false, definitions: [] });
      assert.deepEqual(await states("badret"), { "1.0.0": "published" });
      assert.equal((await auditEntries("badret")).length, audited);
    });
  });
}
