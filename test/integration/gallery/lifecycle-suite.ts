// The gallery model end to end through the API and the registry: versions, latest, channels,
// approvals, copies, lifecycle at pull, deletion, audit and webhooks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiError, verifySignature, type Harness } from "./harness.ts";

const DAY = 86_400_000;

/** Pushes an artifact manifest whose subject is `subject` into `repository`; returns its digest. */
async function pushReferrer(h: Harness, repository: string, subject: string): Promise<string> {
  const { basic } = await import("../../helpers/gallery.ts");
  const { EMPTY_CONFIG } = await import("../../helpers/manifests.ts");
  const { digestOf, MediaType } = await import("../../../src/oci/index.ts");
  const target = await h.pull(repository, subject);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: "application/vnd.example.sbom+json",
      config: { mediaType: MediaType.ImageConfig, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
      layers: [],
      subject: { mediaType: MediaType.ImageManifest, digest: subject, size: Buffer.byteLength(target.body) },
    }),
  );
  const digest = digestOf(manifest);
  const res = await h.server.server.app.inject({
    method: "PUT",
    url: `/v2/${repository}/manifests/${digest}`,
    headers: { authorization: basic("alice"), "content-type": MediaType.ImageManifest },
    payload: manifest,
  });
  assert.equal(res.statusCode, 201, res.body);
  return digest;
}

export function lifecycleSuite(h: Harness): void {
  describe("lifecycle", () => {
    it("publishes immutable versions and computes latest", async () => {
      await h.setup("life");
      const d1 = await h.publish("life", "web", "1.0.0");
      const d2 = await h.publish("life", "web", "1.10.0");
      const d3 = await h.publish("life", "web", "1.9.0");
      const latest = await h.api("GET", "/galleries/life/images/web/latest", undefined, "dave");
      assert.equal(latest.body.version, "1.10.0");
      assert.equal((await h.pull("life/web", "latest")).digest, d2);
      assert.equal((await h.pull("life/web", "1.0.0")).digest, d1);
      // Same number, same content: a no-op; other content: a conflict.
      const again = await h.api(
        "POST",
        "/galleries/life/images/web/versions",
        { version: "1.9.0", from: `life/web@${d3}` },
        "carol",
      );
      assert.equal(again.status, 200);
      const other = await h.api(
        "POST",
        "/galleries/life/images/web/versions",
        { version: "1.9.0", from: `life/web@${d1}` },
        "carol",
      );
      assert.equal(other.status, 409);
      assert.match(apiError(other).message, /already exists with other content/);
      assert.equal((await h.pull("life/web", "1.9.0")).digest, d3);
      // Excluded from latest, then back.
      await h.api(
        "PATCH",
        "/galleries/life/images/web/versions/1.10.0",
        { excludeFromLatest: true },
        "carol",
      );
      assert.equal(
        (await h.api("GET", "/galleries/life/images/web/latest", undefined, "dave")).body.version,
        "1.9.0",
      );
      await h.api(
        "PATCH",
        "/galleries/life/images/web/versions/1.10.0",
        { excludeFromLatest: false },
        "carol",
      );
      assert.equal(
        (await h.api("GET", "/galleries/life/images/web/latest", undefined, "dave")).body.version,
        "1.10.0",
      );
      // Version tags are listed by the registry and cannot be moved or deleted.
      const tags = await h.server.server.app.inject({
        url: "/v2/life/web/tags/list",
        headers: { authorization: (await import("../../helpers/gallery.ts")).basic("alice") },
      });
      assert.deepEqual(JSON.parse(tags.body).tags.sort(), ["1.0.0", "1.10.0", "1.9.0"]);
    });

    it("edits definitions, members and a version's EOL, and nothing else", async () => {
      await h.setup("edit");
      await h.publish("edit", "web", "1.0.0", { eol: "2099-01-01" });
      const edited = await h.api(
        "PATCH",
        "/galleries/edit/images/web",
        { description: "the web tier", labels: { team: "web" } },
        "carol",
      );
      assert.equal(edited.status, 200);
      assert.deepEqual(
        [edited.body.description, edited.body.os, edited.body.labels],
        ["the web tier", "linux", { team: "web" }],
      );
      assert.equal((await h.api("PATCH", "/galleries/edit/images/web", { kind: "vm" }, "carol")).status, 400);
      assert.equal(
        (await h.api("PATCH", "/galleries/edit/images/web/versions/1.0.0", { digest: "sha256:00" }, "carol"))
          .status,
        400,
      );
      const cleared = await h.api(
        "PATCH",
        "/galleries/edit/images/web/versions/1.0.0",
        { eol: null },
        "carol",
      );
      assert.equal(cleared.body.eol, undefined);
      // Members: eve joins as reader, can read, and loses access when removed.
      assert.equal((await h.api("GET", "/galleries/edit", undefined, "eve")).status, 404);
      assert.equal(
        (await h.api("PUT", "/galleries/edit/members/eve", { role: "reader" }, "carol")).status,
        403,
      );
      assert.equal(
        (await h.api("PUT", "/galleries/edit/members/eve", { role: "reader" }, "alice")).body.members.eve,
        "reader",
      );
      assert.equal(
        (await h.api("GET", "/galleries/edit/images/web/versions/1.0.0", undefined, "eve")).status,
        200,
      );
      assert.equal(
        (await h.api("DELETE", "/galleries/edit/members/eve", undefined, "alice")).body.members.eve,
        undefined,
      );
      assert.equal(
        (await h.api("GET", "/galleries/edit/images/web/versions/1.0.0", undefined, "eve")).status,
        404,
      );
      const actions = (await h.api("GET", "/galleries/edit/audit?limit=5", undefined, "dave")).body.map(
        (e: { action: string }) => e.action,
      );
      assert.deepEqual(actions, [
        "member.removed",
        "member.set",
        "version.updated",
        "image.updated",
        "version.published",
      ]);
    });

    it("removes definitions and galleries only when empty", async () => {
      await h.setup("gone");
      await h.publish("gone", "web", "1.0.0");
      const busy = await h.api("DELETE", "/galleries/gone/images/web", undefined, "alice");
      assert.equal(busy.status, 409);
      assert.match(apiError(busy).message, /still has 1 version \(deleted ones included\)/);
      const notEmpty = await h.api("DELETE", "/galleries/gone", undefined, "alice");
      assert.equal(notEmpty.status, 409);
      assert.match(apiError(notEmpty).message, /still has image definitions \("web"\)/);
      assert.equal(
        (await h.api("POST", "/galleries/gone/images", { name: "empty", kind: "vm" }, "carol")).status,
        201,
      );
      assert.equal((await h.api("DELETE", "/galleries/gone/images/empty", undefined, "carol")).status, 403);
      assert.equal((await h.api("DELETE", "/galleries/gone/images/empty", undefined, "alice")).status, 200);
      assert.deepEqual(
        (await h.api("GET", "/galleries/gone/images", undefined, "dave")).body.map(
          (i: { name: string }) => i.name,
        ),
        ["web"],
      );
      await h.setup("bare", "only");
      assert.equal((await h.api("DELETE", "/galleries/bare/images/only", undefined, "alice")).status, 200);
      assert.equal((await h.api("DELETE", "/galleries/bare", undefined, "alice")).status, 200);
      assert.equal((await h.api("GET", "/galleries/bare", undefined, "alice")).status, 404);
      // The name is free again; the audit log of the removed gallery stays.
      assert.equal((await h.api("POST", "/galleries", { name: "bare" }, "alice")).status, 201);
      const log = (await h.api("GET", "/galleries/bare/audit", undefined, "alice")).body.map(
        (e: { action: string }) => e.action,
      );
      assert.deepEqual(log.slice(0, 4), [
        "gallery.created",
        "gallery.removed",
        "image.removed",
        "image.defined",
      ]);
    });

    it("moves channels with a full history and rolls them back", async () => {
      await h.setup("chan");
      const d1 = await h.publish("chan", "web", "1.0.0");
      const d2 = await h.publish("chan", "web", "1.1.0");
      for (const version of ["1.0.0", "1.1.0"]) {
        const r = await h.api("PUT", "/galleries/chan/images/web/channels/staging", { version }, "carol");
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      assert.equal((await h.pull("chan/web", "staging")).digest, d2);
      const back = await h.api("POST", "/galleries/chan/images/web/channels/staging/rollback", {}, "carol");
      assert.equal(back.status, 200);
      assert.equal(back.body.channel.version, "1.0.0");
      assert.equal((await h.pull("chan/web", "staging")).digest, d1);
      const history = await h.api(
        "GET",
        "/galleries/chan/images/web/channels/staging/history",
        undefined,
        "dave",
      );
      assert.deepEqual(
        history.body.map((m: { seq: number; version: string; previous: string | null; action: string }) => [
          m.seq,
          m.action,
          m.previous,
          m.version,
        ]),
        [
          [3, "rollback", "1.1.0", "1.0.0"],
          [2, "set", "1.0.0", "1.1.0"],
          [1, "set", null, "1.0.0"],
        ],
      );
    });

    it("needs another approver to move a restricted channel (two-person rule)", async () => {
      await h.setup("appr");
      await h.publish("appr", "web", "1.0.0");
      await h.publish("appr", "web", "2.0.0");
      // Only an admin may restrict a channel.
      const notAdmin = await h.api(
        "PUT",
        "/galleries/appr/images/web/channels/production",
        { version: "1.0.0", restricted: true },
        "carol",
      );
      assert.equal(notAdmin.status, 403);
      const restricted = await h.api(
        "PUT",
        "/galleries/appr/images/web/channels/production",
        { version: "1.0.0", restricted: true },
        "alice",
      );
      assert.equal(restricted.status, 200);
      const promoted = await h.api(
        "POST",
        "/promotions",
        { gallery: "appr", image: "web", version: "2.0.0", channel: "production" },
        "alice",
      );
      assert.equal(promoted.status, 202);
      const id = promoted.body.request.id as string;
      assert.equal((await h.pull("appr/web", "production")).status, 200);
      assert.equal(
        (await h.api("GET", "/galleries/appr/images/web/channels/production", undefined, "dave")).body
          .version,
        "1.0.0",
      );
      const self = await h.api("POST", `/requests/${id}/approve`, {}, "alice");
      assert.equal(self.status, 403);
      assert.match(apiError(self).message, /cannot approve it: another approver must/);
      const publisher = await h.api("POST", `/requests/${id}/approve`, {}, "carol");
      assert.equal(publisher.status, 403);
      assert.equal((await h.api("GET", `/requests/${id}`, undefined, "dave")).body.state, "pending");
      const approved = await h.api("POST", `/requests/${id}/approve`, { comment: "looks good" }, "bob");
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.state, "applied");
      const channel = await h.api("GET", "/galleries/appr/images/web/channels/production", undefined, "dave");
      assert.equal(channel.body.version, "2.0.0");
      const history = await h.api(
        "GET",
        "/galleries/appr/images/web/channels/production/history",
        undefined,
        "dave",
      );
      assert.equal(history.body[0].action, "approved");
      assert.equal(history.body[0].request, id);
      // A decided request cannot be approved again.
      assert.equal((await h.api("POST", `/requests/${id}/approve`, {}, "bob")).status, 409);
    });

    it("counts as many approvals as configured; rejected and withdrawn requests change nothing", async () => {
      await h.setup("two");
      await h.publish("two", "web", "1.0.0");
      await h.publish("two", "web", "1.1.0");
      const configured = await h.api(
        "PUT",
        "/galleries/two/images/web/channels/prod",
        { version: "1.0.0", restricted: true, approvals: 2 },
        "alice",
      );
      assert.equal(configured.status, 200);
      const channelAt = async () =>
        (await h.api("GET", "/galleries/two/images/web/channels/prod", undefined, "dave")).body.version;
      // Rejected by an approver: nothing moves.
      const first = await h.api(
        "PUT",
        "/galleries/two/images/web/channels/prod",
        { version: "1.1.0" },
        "carol",
      );
      assert.equal(first.status, 202);
      assert.equal(first.body.request.required, 2);
      const rejected = await h.api(
        "POST",
        `/requests/${first.body.request.id}/reject`,
        { comment: "not today" },
        "bob",
      );
      assert.equal(rejected.body.state, "rejected");
      assert.equal(rejected.body.reason, "not today");
      assert.equal(
        (await h.api("POST", `/requests/${first.body.request.id}/approve`, {}, "alice")).status,
        409,
      );
      assert.equal(await channelAt(), "1.0.0");
      // Withdrawn by its requester.
      const second = await h.api(
        "PUT",
        "/galleries/two/images/web/channels/prod",
        { version: "1.1.0" },
        "carol",
      );
      assert.equal(
        (await h.api("POST", `/requests/${second.body.request.id}/reject`, {}, "carol")).body.state,
        "rejected",
      );
      // Two approvals by two users: the first leaves it pending, the same user cannot count twice.
      const third = await h.api(
        "PUT",
        "/galleries/two/images/web/channels/prod",
        { version: "1.1.0" },
        "carol",
      );
      const id = third.body.request.id as string;
      assert.equal((await h.api("POST", `/requests/${id}/approve`, {}, "bob")).body.state, "pending");
      assert.equal(await channelAt(), "1.0.0");
      const twice = await h.api("POST", `/requests/${id}/approve`, {}, "bob");
      assert.equal(twice.status, 409);
      assert.match(apiError(twice).message, /has already approved/);
      const done = await h.api("POST", `/requests/${id}/approve`, {}, "alice");
      assert.equal(done.body.state, "applied");
      assert.deepEqual(
        done.body.approvals.map((a: { user: string }) => a.user),
        ["bob", "alice"],
      );
      assert.equal(await channelAt(), "1.1.0");
      // A rollback of a restricted channel needs approval too.
      const back = await h.api("POST", "/galleries/two/images/web/channels/prod/rollback", {}, "carol");
      assert.equal(back.status, 202);
      assert.equal(back.body.request.version, "1.0.0");
      assert.equal(await channelAt(), "1.1.0");
      const pending = await h.api("GET", "/requests?gallery=two&state=pending", undefined, "dave");
      assert.deepEqual(
        pending.body.map((r: { id: string }) => r.id),
        [back.body.request.id],
      );
    });

    it("finishes an approved request whose change a crash interrupted", async () => {
      await h.setup("resume");
      await h.publish("resume", "web", "1.0.0");
      await h.publish("resume", "web", "1.1.0");
      await h.api(
        "PUT",
        "/galleries/resume/images/web/channels/prod",
        { version: "1.0.0", restricted: true },
        "alice",
      );
      const requested = await h.api(
        "PUT",
        "/galleries/resume/images/web/channels/prod",
        { version: "1.1.0" },
        "carol",
      );
      const id = requested.body.request.id as string;
      // What a crash between the last approval and its change leaves behind.
      const { connectDatabase } = await import("../../../src/store/index.ts");
      const { db, release } = connectDatabase<{
        gallery_requests: { id: string; state: string; approvals: string; decided_at: number };
      }>(h.databaseUrl);
      try {
        await db
          .updateTable("gallery_requests")
          .set({
            state: "applying",
            approvals: JSON.stringify([{ user: "bob", at: new Date().toISOString() }]),
            decided_at: Date.now() - 120_000,
          })
          .where("id", "=", id)
          .execute();
      } finally {
        await release();
      }
      assert.equal((await h.server.server.gallery.sweep()).resumed, 1);
      const request = await h.api("GET", `/requests/${id}`, undefined, "dave");
      assert.equal(request.body.state, "applied");
      assert.equal(request.body.decidedBy, "bob");
      assert.equal(
        (await h.api("GET", "/galleries/resume/images/web/channels/prod", undefined, "dave")).body.version,
        "1.1.0",
      );
      assert.equal((await h.server.server.gallery.sweep()).resumed, 0);
      const history = await h.api(
        "GET",
        "/galleries/resume/images/web/channels/prod/history",
        undefined,
        "dave",
      );
      assert.equal(history.body.filter((m: { request?: string }) => m.request === id).length, 1);
    });

    it("copies a version into another gallery, blobs linked, after approval", async () => {
      await h.setup("src");
      await h.setup("dst", "other", { approvals: 1 });
      const digest = await h.publish("src", "web", "3.1.4");
      // A referrer (an SBOM, say) of the version in the source repository comes along.
      const referrer = await pushReferrer(h, "src/web", digest);
      const req = await h.api(
        "POST",
        "/promotions",
        { gallery: "src", image: "web", version: "3.1.4", toGallery: "dst" },
        "carol",
      );
      assert.equal(req.status, 202);
      assert.equal((await h.pull("dst/web", "3.1.4")).status, 404);
      const approved = await h.api("POST", `/requests/${req.body.request.id}/approve`, {}, "bob");
      assert.equal(approved.body.state, "applied", JSON.stringify(approved.body));
      const copied = await h.api("GET", "/galleries/dst/images/web/versions/3.1.4", undefined, "dave");
      assert.equal(copied.body.digest, digest);
      assert.deepEqual(
        copied.body.approvals.map((a: { user: string }) => a.user),
        ["bob"],
      );
      assert.equal((await h.pull("dst/web", "3.1.4")).digest, digest);
      const manifest = JSON.parse((await h.pull("dst/web", digest)).body);
      const { basic } = await import("../../helpers/gallery.ts");
      for (const blob of [manifest.config, ...manifest.layers]) {
        const res = await h.server.server.app.inject({
          method: "HEAD",
          url: `/v2/dst/web/blobs/${blob.digest}`,
          headers: { authorization: basic("alice") },
        });
        assert.equal(res.statusCode, 200);
      }
      const { basic: auth } = await import("../../helpers/gallery.ts");
      const referrers = await h.server.server.app.inject({
        url: `/v2/dst/web/referrers/${digest}`,
        headers: { authorization: auth("alice") },
      });
      assert.deepEqual(
        JSON.parse(referrers.body).manifests.map((m: { digest: string }) => m.digest),
        [referrer],
      );
      // The definition was created in the target gallery from the source's metadata.
      assert.equal((await h.api("GET", "/galleries/dst/images/web", undefined, "dave")).body.os, "linux");
    });

    it("warns on deprecated versions and refuses revoked ones, with cascade", async () => {
      await h.setup("cyc");
      const base = await h.publish("cyc", "web", "1.0.0");
      await h.publish("cyc", "web", "1.1.0");
      const dep = await h.api(
        "POST",
        "/galleries/cyc/images/web/versions/1.0.0/deprecate",
        { reason: "old openssl", replacement: "1.1.0" },
        "carol",
      );
      assert.equal(dep.status, 200);
      const warned = await h.pull("cyc/web", "1.0.0");
      assert.equal(warned.status, 200);
      assert.match(
        warned.warning ?? "",
        /^299 - "cyc\/web:1\.0\.0 is deprecated: old openssl; use cyc\/web:1\.1\.0"$/,
      );
      assert.match((await h.pull("cyc/web", base, "HEAD")).warning ?? "", /deprecated/);
      // An app built on 1.1.0, and one built on the app.
      const baseOf11 = (await h.api("GET", "/galleries/cyc/images/web/versions/1.1.0", undefined, "dave"))
        .body.digest;
      const i = await h.api("POST", "/galleries/cyc/images", { name: "app", kind: "container" }, "carol");
      assert.equal(i.status, 201);
      const appDigest = await h.push("builds/app", "a1", "app-on-web-1.1.0", {
        "org.opencontainers.image.base.digest": baseOf11,
      });
      assert.equal(
        (
          await h.api(
            "POST",
            "/galleries/cyc/images/app/versions",
            { version: "0.1.0", from: `builds/app@${appDigest}` },
            "carol",
          )
        ).status,
        201,
      );
      const revoked = await h.api(
        "POST",
        "/galleries/cyc/images/web/versions/1.1.0/revoke",
        { reason: "CVE-2026-0001", cascade: true },
        "carol",
      );
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.deepEqual(
        revoked.body.revoked.map((v: { image: string; version: string }) => `${v.image}:${v.version}`),
        ["web:1.1.0", "app:0.1.0"],
      );
      const denied = await h.pull("cyc/app", "0.1.0");
      assert.equal(denied.status, 403);
      assert.match(
        JSON.parse(denied.body).errors[0].message,
        /cyc\/app:0\.1\.0 is revoked: base image cyc\/web:1\.1\.0 revoked: CVE-2026-0001/,
      );
      assert.equal((await h.pull("cyc/app", appDigest)).status, 403);
      // warn mode: served with a warning; off: served silently.
      await h.api("PATCH", "/galleries/cyc", { mode: "warn" }, "alice");
      const warn = await h.pull("cyc/web", "1.1.0");
      assert.equal(warn.status, 200);
      assert.match(warn.warning ?? "", /revoked: CVE-2026-0001/);
      await h.api("PATCH", "/galleries/cyc", { mode: "off" }, "alice");
      const off = await h.pull("cyc/web", "1.1.0");
      assert.equal(off.status, 200);
      assert.equal(off.warning, undefined);
      // Nothing left for latest; a revoked version is not a channel target.
      assert.equal((await h.api("GET", "/galleries/cyc/images/web/latest", undefined, "dave")).status, 404);
      assert.equal(
        (await h.api("PUT", "/galleries/cyc/images/web/channels/x", { version: "1.1.0" }, "carol")).status,
        409,
      );
    });

    it("applies EOL dates and scheduled revocations when their time comes", async () => {
      await h.setup("time");
      const now = Date.now();
      const eol = new Date(now + 10 * DAY).toISOString();
      await h.publish("time", "web", "1.0.0", { eol });
      await h.publish("time", "web", "0.9.0");
      const at = new Date(now + 5 * DAY).toISOString();
      const scheduled = await h.api(
        "POST",
        "/galleries/time/images/web/versions/0.9.0/revoke",
        { reason: "retired", at },
        "carol",
      );
      assert.equal(scheduled.status, 200);
      assert.equal(scheduled.body.revoked[0].state, "published");
      assert.equal((await h.pull("time/web", "0.9.0")).status, 200);
      h.advance(6 * DAY);
      assert.equal((await h.pull("time/web", "0.9.0")).status, 403);
      assert.equal(
        (await h.api("GET", "/galleries/time/images/web/versions/0.9.0", undefined, "dave")).body.state,
        "revoked",
      );
      const swept = await h.server.server.gallery.sweep();
      assert.ok(swept.revoked >= 1);
      h.advance(5 * DAY);
      const past = await h.pull("time/web", "1.0.0");
      assert.equal(past.status, 403);
      assert.match(JSON.parse(past.body).errors[0].message, /reached its end of life on/);
      assert.equal((await h.api("GET", "/galleries/time/images/web/latest", undefined, "dave")).status, 404);
      // Past its EOL a publisher may delete it without force.
      assert.equal(
        (await h.api("DELETE", "/galleries/time/images/web/versions/1.0.0", undefined, "carol")).status,
        200,
      );
      h.advance(-11 * DAY);
    });

    it("deletes softly: EOL or admin force first, restorable within the window", async () => {
      await h.setup("del", "web", { restoreDays: 7 });
      const digest = await h.publish("del", "web", "1.0.0");
      const early = await h.api("DELETE", "/galleries/del/images/web/versions/1.0.0", undefined, "carol");
      assert.equal(early.status, 403);
      assert.equal(apiError(early).code, "DENIED");
      assert.match(apiError(early).message, /cannot be deleted before its end of life/);
      assert.equal(
        (await h.api("DELETE", "/galleries/del/images/web/versions/1.0.0?force=true", undefined, "carol"))
          .status,
        403,
      );
      const forced = await h.api(
        "DELETE",
        "/galleries/del/images/web/versions/1.0.0?force=true",
        undefined,
        "alice",
      );
      assert.equal(forced.status, 200);
      assert.equal(forced.body.state, "deleted");
      assert.deepEqual(
        (await h.api("GET", "/galleries/del/images/web/versions", undefined, "dave")).body,
        [],
      );
      assert.equal(
        (await h.api("GET", "/galleries/del/images/web/versions?deleted=true", undefined, "dave")).body
          .length,
        1,
      );
      assert.equal((await h.pull("del/web", "1.0.0")).status, 403);
      const restored = await h.api("POST", "/galleries/del/images/web/versions/1.0.0/restore", {}, "carol");
      assert.equal(restored.status, 200);
      assert.equal(restored.body.state, "published");
      assert.equal((await h.pull("del/web", "1.0.0")).digest, digest);
      // After the window a deleted version cannot come back, and the sweep purges it.
      await h.api("DELETE", "/galleries/del/images/web/versions/1.0.0?force=true", undefined, "alice");
      h.advance(8 * DAY);
      const late = await h.api("POST", "/galleries/del/images/web/versions/1.0.0/restore", {}, "carol");
      assert.equal(late.status, 403);
      assert.match(apiError(late).message, /window ended/);
      await h.server.server.gallery.sweep();
      assert.equal(
        (await h.api("GET", "/galleries/del/images/web/versions/1.0.0", undefined, "dave")).status,
        404,
      );
      assert.equal((await h.pull("del/web", "1.0.0")).status, 404);
      // Purged and held by nothing else: the manifest goes, so garbage collection can reclaim it.
      assert.equal((await h.pull("del/web", digest)).status, 404);
      h.advance(-8 * DAY);
      // Content a tag still names stays when its version is purged.
      const kept = await h.publish("del", "web", "3.0.0");
      const { basic } = await import("../../helpers/gallery.ts");
      const tagged = await h.server.server.app.inject({
        method: "PUT",
        url: "/v2/del/web/manifests/keep-me",
        headers: {
          authorization: basic("alice"),
          "content-type": "application/vnd.oci.image.manifest.v1+json",
        },
        payload: (await h.pull("del/web", kept)).body,
      });
      assert.equal(tagged.statusCode, 201);
      await h.api("DELETE", "/galleries/del/images/web/versions/3.0.0?force=true", undefined, "alice");
      h.advance(8 * DAY);
      await h.server.server.gallery.sweep();
      assert.equal((await h.pull("del/web", "3.0.0")).status, 404);
      assert.equal((await h.pull("del/web", kept)).status, 200);
      h.advance(-8 * DAY);
    });

    it("records every change in the audit log and delivers signed webhooks, retrying", async () => {
      h.hooks.failNext(2);
      await h.setup("aud");
      await h.publish("aud", "web", "1.0.0");
      await h.publish("aud", "web", "1.1.0");
      await h.api("PUT", "/galleries/aud/images/web/channels/prod", { version: "1.1.0" }, "carol");
      await h.api("POST", "/galleries/aud/images/web/versions/1.0.0/deprecate", {}, "carol");
      await h.api("POST", "/galleries/aud/images/web/versions/1.0.0/revoke", { reason: "bad" }, "carol");
      await h.api("DELETE", "/galleries/aud/images/web/versions/1.0.0?force=true", undefined, "alice");
      const log = await h.api("GET", "/galleries/aud/audit?limit=100", undefined, "dave");
      assert.deepEqual(
        log.body.map((e: { action: string; actor: string }) => `${e.actor} ${e.action}`).reverse(),
        [
          "alice gallery.created",
          "alice image.defined",
          "alice version.published",
          "alice version.published",
          "carol channel.set",
          "carol version.deprecated",
          "carol version.revoked",
          "alice version.deleted.forced",
        ],
      );
      const deprecated = log.body.find((e: { action: string }) => e.action === "version.deprecated");
      assert.equal(deprecated.before.state, "published");
      assert.equal(deprecated.after.state, "deprecated");
      const filtered = await h.api(
        "GET",
        "/galleries/aud/audit?actor=carol&action=version.",
        undefined,
        "dave",
      );
      assert.deepEqual(
        filtered.body.map((e: { action: string }) => e.action),
        ["version.revoked", "version.deprecated"],
      );
      const want = [
        "version.published",
        "version.published",
        "version.promoted",
        "version.deprecated",
        "version.revoked",
        "version.deleted",
      ];
      const ofGallery = () => h.hooks.received.filter((r) => JSON.parse(r.body).gallery === "aud");
      await h.hooks.waitFor(() => ofGallery().length >= want.length);
      const got = ofGallery().map((r) => JSON.parse(r.body) as { type: string; at: string });
      assert.deepEqual(got.map((e) => e.type).sort(), [...want].sort());
      for (const r of ofGallery()) {
        assert.ok(verifySignature(r.headers, r.body), "valid signature");
        assert.equal(r.headers["x-strata-event"], JSON.parse(r.body).type);
      }
      assert.ok(
        !verifySignature(ofGallery()[0]?.headers ?? {}, `${ofGallery()[0]?.body ?? ""} `),
        "a changed body fails",
      );
      // alice created every gallery of the suite, so she sees every delivery (a retry may belong to any).
      // The receiver has an event before the server records the answer: the log is polled.
      const retried = (body: { attempts: number; state: string }[]) =>
        body.some((d) => d.attempts > 1 && d.state === "delivered");
      let deliveries = await h.api("GET", "/webhooks/deliveries?limit=1000", undefined, "alice");
      for (let i = 0; i < 100 && !retried(deliveries.body); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        deliveries = await h.api("GET", "/webhooks/deliveries?limit=1000", undefined, "alice");
      }
      assert.ok(retried(deliveries.body), "a retried delivery");
      // The log shows only galleries the caller may read: eve is no member anywhere.
      assert.ok(deliveries.body.every((d: { gallery: string }) => d.gallery !== ""));
      assert.deepEqual((await h.api("GET", "/webhooks/deliveries", undefined, "eve")).body, []);
      assert.equal((await h.api("GET", "/webhooks/deliveries?gallery=aud", undefined, "eve")).status, 404);
      const mine = await h.api("GET", "/webhooks/deliveries?gallery=aud&limit=1000", undefined, "dave");
      assert.ok(
        mine.body.length >= want.length && mine.body.every((d: { gallery: string }) => d.gallery === "aud"),
      );
      // Redelivery: admins only; the receiver gets the same event (same id) once more.
      const one = mine.body.find((d: { event: string }) => d.event === "version.revoked") as { id: string };
      assert.equal(
        (await h.api("POST", `/webhooks/deliveries/${one.id}/redeliver`, {}, "carol")).status,
        403,
      );
      assert.equal((await h.api("POST", `/webhooks/deliveries/${one.id}/redeliver`, {}, "eve")).status, 404);
      const again = await h.api("POST", `/webhooks/deliveries/${one.id}/redeliver`, {}, "alice");
      assert.equal(again.status, 200);
      // Queued again (the poll may already have sent it by the time the answer was read).
      assert.ok(again.body.state === "pending" || again.body.attempts === 1, JSON.stringify(again.body));
      await h.hooks.waitFor(
        (got) => got.filter((r) => r.headers["x-strata-delivery"] === one.id).length === 2,
      );
      const redelivered = await h.api(
        "GET",
        "/galleries/aud/audit?action=delivery.redelivered",
        undefined,
        "dave",
      );
      assert.equal(redelivered.body[0]?.target, one.id);
    });
  });
}
