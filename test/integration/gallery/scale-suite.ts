// Large galleries, run on each database: a definition of 2,000 versions paged by number (each
// version exactly once, in order, forwards and backwards, while versions are published in the
// middle of a walk), filtered on the server; an audit log of 100,000 entries whose every filter is
// read from an index (the query plan says so on SQLite and PostgreSQL) and pages both ways; and
// the search across galleries, which never shows what the caller may not read.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CompiledQuery } from "kysely";
import { auditQuery, type AuditFilter } from "../../../src/gallery/audit-log.ts";
import { versionPageQuery } from "../../../src/gallery/version-page.ts";
import {
  publishMany,
  SCALE_AUDIT_START,
  scaleAuditEntry,
  writeAuditEntries,
} from "../../helpers/scale-content.ts";
import { apiError, type Harness } from "./harness.ts";

const VERSIONS = 2000;
const ENTRIES = 100_000;

interface Page {
  versions: { version: string; state: string }[];
  total: number;
  offset: number;
  next?: string;
  previous?: string;
}

export function scaleSuite(h: Harness): void {
  describe("a definition of 2,000 versions", () => {
    let numbers: string[] = [];
    const base = "/galleries/scale/images/many/versions";
    const page = async (query: string, user = "dave"): Promise<Page> => {
      const res = await h.api("GET", `${base}?${query}`, undefined, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as Page;
    };

    before(async () => {
      await h.setup("scale", "many");
      numbers = await publishMany(
        h.server.server,
        { gallery: "scale", image: "many", user: "carol" },
        VERSIONS,
      );
    });

    it("pages forwards 50 at a time: each version once, highest first, with the total and offset", async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const p = await page(`limit=50${cursor === undefined ? "" : `&after=${cursor}`}`);
        assert.equal(p.total, VERSIONS);
        assert.equal(p.offset, seen.length);
        assert.equal(p.previous === undefined, seen.length === 0);
        seen.push(...p.versions.map((v) => v.version));
        cursor = p.next;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, VERSIONS / 50);
      assert.deepEqual(seen, numbers);
      // The old answer, for callers that pass no paging parameter, is every version.
      const all = await h.api("GET", base, undefined, "dave");
      assert.deepEqual(
        (all.body as { version: string }[]).map((v) => v.version),
        numbers,
      );
    });

    it("pages backwards from the lowest page to the highest with the same pages", async () => {
      const lowest = numbers[numbers.length - 1] ?? "";
      const seen: string[] = [];
      let p = await page(`limit=50&before=${lowest}`);
      seen.unshift(...p.versions.map((v) => v.version), lowest);
      assert.equal(p.offset, VERSIONS - 51);
      while (p.previous !== undefined) {
        p = await page(`limit=50&before=${p.previous}`);
        seen.unshift(...p.versions.map((v) => v.version));
      }
      assert.equal(p.offset, 0);
      assert.deepEqual(seen, numbers);
    });

    it("keeps each version on one page while versions are published in the middle of a walk", async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      const added: string[] = [];
      let round = 0;
      do {
        const p = await page(`limit=250${cursor === undefined ? "" : `&after=${cursor}`}`);
        seen.push(...p.versions.map((v) => v.version));
        cursor = p.next;
        if (cursor === undefined) break;
        // One version above everything (already passed: not shown) and one far below the
        // cursor (not reached yet: shown once), published between two pages.
        const high = `9.0.${round}`;
        const low = `0.0.${round++}`;
        for (const version of [high, low]) {
          const res = await h.api(
            "POST",
            base,
            { version, from: `builds/scale-many@${await digestOf("1.0.0")}` },
            "carol",
          );
          assert.equal(res.status, 201, JSON.stringify(res.body));
          added.push(version);
        }
      } while (cursor !== undefined);
      assert.equal(new Set(seen).size, seen.length, "a version shown twice");
      const lows = added.filter((v) => v.startsWith("0.")).sort((a, b) => cmp(b, a));
      // Every version that existed when the walk began, then every low one (published before the
      // walk reached them), in order; none of the high ones (published behind the walk).
      assert.deepEqual(seen.slice(0, VERSIONS), numbers);
      assert.deepEqual(seen.slice(VERSIONS), lows);
      const all = await page("limit=1");
      assert.equal(all.total, VERSIONS + added.length);
      assert.equal(
        all.versions[0]?.version,
        added.filter((v) => v.startsWith("9.")).sort((a, b) => cmp(b, a))[0],
      );
    });

    it("filters by state and number on the server, counted", async () => {
      for (const version of ["1.9.98", "1.9.97", "2.0.5"]) {
        const res = await h.api("POST", `${base}/${version}/deprecate`, {}, "carol");
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      const deprecated = await page("limit=2&state=deprecated");
      assert.equal(deprecated.total, 3);
      assert.deepEqual(
        deprecated.versions.map((v) => [v.version, v.state]),
        [
          ["2.0.5", "deprecated"],
          ["1.9.98", "deprecated"],
        ],
      );
      const rest = await page(`limit=2&state=deprecated&after=${deprecated.next ?? ""}`);
      assert.deepEqual(
        rest.versions.map((v) => v.version),
        ["1.9.97"],
      );
      assert.equal(rest.next, undefined);
      const prefixed = await page("limit=50&prefix=1.0.1");
      // 1.0.1 and 1.0.10 … 1.0.19
      assert.equal(prefixed.total, 11);
      assert.deepEqual(prefixed.versions.map((v) => v.version).slice(0, 3), ["1.0.19", "1.0.18", "1.0.17"]);
      assert.equal(prefixed.versions.at(-1)?.version, "1.0.1");
    });

    it("reads a page, either way, from the index of version numbers", async () => {
      const db = h.server.server.gallery.db;
      const postgres = h.databaseUrl.startsWith("postgres");
      if (postgres) await db.executeQuery(CompiledQuery.raw("analyze gallery_versions"));
      for (const query of [{ limit: 50 }, { limit: 50, after: "1.5.0" }, { limit: 50, before: "1.5.0" }]) {
        const compiled = versionPageQuery(
          db,
          { gallery: "scale", image: "many" },
          query,
          Date.now(),
        ).compile();
        const res = await db.executeQuery<Record<string, unknown>>(
          CompiledQuery.raw(`${postgres ? "explain" : "explain query plan"} ${compiled.sql}`, [
            ...compiled.parameters,
          ]),
        );
        const text = res.rows.map((r) => String(postgres ? r["QUERY PLAN"] : r.detail)).join("\n");
        if (postgres) {
          assert.match(text, /Index Scan (Backward )?using gallery_versions_order on gallery_versions/, text);
          assert.doesNotMatch(text, /Seq Scan|Sort/, text);
        } else {
          assert.match(text, /SEARCH gallery_versions USING INDEX gallery_versions_order/, text);
          assert.doesNotMatch(text, /TEMP B-TREE/, text);
        }
      }
    });

    it("refuses a bad cursor, limit, state or prefix with a 400 naming it, and changes nothing", async () => {
      const before = await page("limit=1");
      for (const [query, name] of [
        ["limit=0", "limit"],
        ["limit=501", "limit"],
        ["limit=10&after=latest", "after"],
        ["before=1.2", "before"],
        ["after=1.0.0&before=2.0.0", "after and before"],
        ["state=gone", "state"],
        ["prefix=1.*", "prefix"],
      ] as const) {
        const res = await h.api("GET", `${base}?${query}`, undefined, "dave");
        assert.equal(res.status, 400, query);
        assert.equal(apiError(res).code, "INVALID", query);
        assert.match(
          apiError(res).message,
          new RegExp(`Invalid (cursor: )?${name.replace(/\*/g, "\\*")}`),
          query,
        );
      }
      assert.equal((await page("limit=1")).total, before.total);
      // A caller without a role in the gallery is told it does not exist.
      const hidden = await h.api("GET", `${base}?limit=5`, undefined, "eve");
      assert.equal(hidden.status, 404);
    });
  });

  describe("an audit log of 100,000 entries", () => {
    before(async () => {
      await h.setup("logs", "def-00");
      await writeAuditEntries(h.server.server, "logs", ENTRIES);
      if (h.databaseUrl.startsWith("postgres"))
        await h.server.server.gallery.db.executeQuery(CompiledQuery.raw("analyze gallery_audit"));
    });

    /** The plan of the query the service runs for `filter`, one line per step. */
    async function plan(filter: AuditFilter): Promise<string[]> {
      const db = h.server.server.gallery.db;
      const compiled = auditQuery(db, filter).compile();
      const postgres = h.databaseUrl.startsWith("postgres");
      const res = await db.executeQuery<Record<string, unknown>>(
        CompiledQuery.raw(`${postgres ? "explain" : "explain query plan"} ${compiled.sql}`, [
          ...compiled.parameters,
        ]),
      );
      return res.rows.map((r) => String(postgres ? r["QUERY PLAN"] : r.detail));
    }

    const filters: [string, Omit<AuditFilter, "gallery">, string | undefined][] = [
      ["actor", { actor: "user-07" }, "gallery_audit_actor"],
      ["action", { action: "channel.moved" }, "gallery_audit_action"],
      ["definition", { image: "def-03" }, "gallery_audit_image"],
      ["version", { version: "1.3.33" }, "gallery_audit_version"],
      ["action prefix", { action: "request." }, undefined],
      ["time range", { since: "2025-02-01T00:00:00Z", until: "2025-02-02T00:00:00Z" }, undefined],
      ["no filter, older than an id", { before: 50_000 }, undefined],
    ];
    for (const [name, filter, index] of filters) {
      it(`reads a page filtered by ${name} from ${index ?? "an index"}, not the table`, async () => {
        const steps = await plan({ gallery: "logs", limit: 51, ...filter });
        const text = steps.join("\n");
        if (h.databaseUrl.startsWith("postgres")) {
          assert.doesNotMatch(text, /Seq Scan/, text);
          assert.match(
            text,
            new RegExp(
              `Index (Only )?Scan (Backward )?using ${index ?? "gallery_audit_\\w+"} on gallery_audit|Bitmap Index Scan on ${index ?? "gallery_audit_\\w+"}`,
            ),
            text,
          );
        } else {
          const reads = steps.filter((s) => /gallery_audit/.test(s));
          assert.ok(reads.length > 0, text);
          for (const s of reads)
            assert.match(
              s,
              new RegExp(
                `^SEARCH gallery_audit USING ${index === undefined ? "(INTEGER PRIMARY KEY|(COVERING )?INDEX gallery_audit_\\w+)" : `(COVERING )?INDEX ${index}`}`,
              ),
              text,
            );
        }
      });
    }

    it("pages a filtered log older and back newer through the API, every row matching", async () => {
      const path = "/galleries/logs/audit?actor=user-07&action=request.&limit=50";
      const first = await h.api("GET", path, undefined, "dave");
      assert.equal(first.status, 200);
      const rows = first.body as { id: number; actor: string; action: string; at: string }[];
      assert.equal(rows.length, 50);
      // Entry i has actor i mod 50 and action i mod 8 (one in 200 matches both filters); each
      // row is checked against the entry written with its id.
      const start = await firstId();
      for (const row of rows) {
        const written = scaleAuditEntry("logs", row.id - start);
        assert.equal(row.actor, "user-07");
        assert.ok(row.action.startsWith("request."), row.action);
        assert.equal(row.actor, written.actor);
        assert.equal(row.action, written.action);
      }
      assert.deepEqual(
        rows.map((r) => r.id),
        [...rows.map((r) => r.id)].sort((a, b) => b - a),
      );
      const older = await h.api("GET", `${path}&before=${rows.at(-1)?.id ?? 0}`, undefined, "dave");
      const olderRows = older.body as { id: number }[];
      assert.equal(olderRows.length, 50);
      assert.ok((olderRows[0]?.id ?? 0) < (rows.at(-1)?.id ?? 0));
      const back = await h.api("GET", `${path}&after=${olderRows[0]?.id ?? 0}`, undefined, "dave");
      assert.deepEqual(
        (back.body as { id: number }[]).map((r) => r.id),
        rows.map((r) => r.id),
      );
      const both = await h.api("GET", `${path}&after=5&before=9`, undefined, "dave");
      assert.equal(both.status, 400);
      assert.match(apiError(both).message, /after and before/);
      const since = new Date(SCALE_AUDIT_START + 99_990 * 60_000).toISOString();
      const until = new Date(SCALE_AUDIT_START + ENTRIES * 60_000).toISOString();
      const recent = await h.api(
        "GET",
        `/galleries/logs/audit?since=${since}&until=${until}&limit=100`,
        undefined,
        "dave",
      );
      assert.equal((recent.body as unknown[]).length, 10);
    });

    let first: number | undefined;
    async function firstId(): Promise<number> {
      first ??= Number(
        (
          await h.server.server.gallery.db
            .selectFrom("gallery_audit")
            .select((eb) => eb.fn.min("id").as("id"))
            .where("gallery", "=", "logs")
            .where("actor", "like", "user-%")
            .executeTakeFirst()
        )?.id ?? 0,
      );
      return first;
    }
  });

  describe("search", () => {
    before(async () => {
      await h.setup("findable", "web-frontend");
      await h.api(
        "PATCH",
        "/galleries/findable/images/web-frontend",
        { description: "The shop's front end", labels: { tier: "frontend", team: "shop" } },
        "alice",
      );
      // alice (who creates it) is the only member of "secret".
      assert.equal((await h.api("POST", "/galleries", { name: "secret" }, "alice")).status, 201);
      const secret = { name: "web-secret", kind: "container", labels: { tier: "frontend" } };
      assert.equal((await h.api("POST", "/galleries/secret/images", secret, "alice")).status, 201);
      await h.publish("findable", "web-frontend", "3.1.4", { buildId: "build-Frontend-77" });
      await h.publish("findable", "web-frontend", "3.1.5");
      await h.publish("secret", "web-secret", "3.1.4", { buildId: "build-frontend-78" });
    });

    type Found = {
      definitions: { items: { gallery: string; name: string }[]; total: number; next?: string };
      versions: {
        items: { gallery: string; image: string; version: string }[];
        total: number;
        next?: string;
      };
    };
    const search = async (query: string, user: string): Promise<Found> => {
      const res = await h.api("GET", `/search?${query}`, undefined, user);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as Found;
    };

    it("finds definitions by name, description and label, and versions by number and build id", async () => {
      const byLabel = await search("q=tier%3Dfrontend", "dave");
      assert.deepEqual(
        byLabel.definitions.items.map((d) => `${d.gallery}/${d.name}`),
        ["findable/web-frontend"],
      );
      const byDescription = await search("q=SHOP's", "dave");
      assert.deepEqual(
        byDescription.definitions.items.map((d) => d.name),
        ["web-frontend"],
      );
      const byNumber = await search("q=3.1.", "dave");
      assert.deepEqual(
        byNumber.versions.items.map((v) => `${v.gallery}/${v.image}:${v.version}`),
        ["findable/web-frontend:3.1.5", "findable/web-frontend:3.1.4"],
      );
      const byBuild = await search("q=frontend-7&kind=versions", "dave");
      assert.deepEqual(
        byBuild.versions.items.map((v) => v.version),
        ["3.1.4"],
      );
      assert.equal(byBuild.definitions.total, 0);
      // "%" and "_" are matched as themselves.
      assert.equal((await search("q=%25", "dave")).definitions.total, 0);
    });

    it("never shows a gallery the caller may not read, and shows it to its member", async () => {
      for (const user of ["carol", "dave", "eve"]) {
        const found = await search("q=frontend", user);
        const names = [
          ...found.definitions.items.map((d) => d.gallery),
          ...found.versions.items.map((v) => v.gallery),
        ];
        assert.ok(!names.includes("secret"), `${user}: ${names.join(", ")}`);
        assert.equal(JSON.stringify(found).includes("secret"), false, user);
      }
      const alice = await search("q=frontend", "alice");
      assert.ok(alice.definitions.items.some((d) => d.gallery === "secret"));
      assert.ok(alice.versions.items.some((v) => v.gallery === "secret"));
    });

    it("pages each kind with its cursor and refuses bad input with a 400", async () => {
      const one = await search("q=3.1.&kind=versions&limit=1", "alice");
      assert.equal(one.versions.total, 3);
      const seen = one.versions.items.map((v) => `${v.gallery}:${v.version}`);
      let next = one.versions.next;
      while (next !== undefined) {
        const p = await search(`q=3.1.&kind=versions&limit=1&after=${next}`, "alice");
        seen.push(...p.versions.items.map((v) => `${v.gallery}:${v.version}`));
        next = p.versions.next;
      }
      assert.deepEqual(seen, ["findable:3.1.5", "findable:3.1.4", "secret:3.1.4"]);
      for (const [query, message] of [
        ["q=", /q/],
        ["q=x&limit=0", /limit/],
        ["q=x&limit=101", /limit/],
        ["q=x&after=abc", /after/],
        [`q=x&kind=versions&after=${Buffer.from('["a","b"]').toString("base64url")}`, /Invalid after/],
        [`q=x&kind=versions&after=${Buffer.from('["a","b","x"]').toString("base64url")}`, /Invalid after/],
      ] as const) {
        const res = await h.api("GET", `/search?${query}`, undefined, "alice");
        assert.equal(res.status, 400, query);
        assert.match(apiError(res).message, message, query);
      }
      const anonymous = await h.api("GET", "/search?q=frontend");
      assert.equal(anonymous.status, 401);
    });
  });

  async function digestOf(version: string): Promise<string> {
    const res = await h.api("GET", `/galleries/scale/images/many/versions/${version}`, undefined, "dave");
    return (res.body as { digest: string }).digest;
  }
}

function cmp(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) {
    const d = (x?.[i] ?? 0) - (y?.[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
