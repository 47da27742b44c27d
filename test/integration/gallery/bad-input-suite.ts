// Bad input to the gallery: every case answers a clear error, and reading the state back shows
// that nothing changed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { basic } from "../../helpers/gallery.ts";
import { apiError, type Harness } from "./harness.ts";

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly user?: string;
  readonly status: number;
  readonly code: string;
  readonly message: RegExp;
}

export function badInputSuite(h: Harness): void {
  describe("bad input", () => {
    let digest = "";
    const snapshot = async () => {
      const read = async (path: string) =>
        JSON.stringify((await h.api("GET", path, undefined, "alice")).body);
      return [
        await read("/galleries"),
        await read("/galleries/bad"),
        await read("/galleries/bad/images"),
        await read("/galleries/bad/images/web/versions?deleted=true"),
        await read("/galleries/bad/images/web/channels"),
        await read("/galleries/bad/images/web/channels/stable/history"),
        await read("/requests"),
        (await h.pull("bad/web", "1.0.0")).digest,
      ];
    };

    const big = "x".repeat(65537);
    const cases = (): Case[] => [
      {
        name: "malformed semver",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "1.2", from: `builds/bad@${digest}` },
        status: 400,
        code: "INVALID",
        message: /Invalid version "1\.2": expected Major\.Minor\.Patch/,
      },
      {
        name: "semver with a leading zero",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "1.02.0", from: `builds/bad@${digest}` },
        status: 400,
        code: "INVALID",
        message: /Major\.Minor\.Patch/,
      },
      {
        name: "unknown gallery",
        method: "POST",
        path: "/galleries/nope/images/web/versions",
        body: { version: "2.0.0", from: `builds/bad@${digest}` },
        status: 404,
        code: "NOT_FOUND",
        message: /Gallery "nope" does not exist/,
      },
      {
        name: "unknown definition",
        method: "POST",
        path: "/galleries/bad/images/nope/versions",
        body: { version: "2.0.0", from: `builds/bad@${digest}` },
        status: 404,
        code: "NOT_FOUND",
        message: /Image definition "bad\/nope" does not exist/,
      },
      {
        name: "--from that does not exist",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: "builds/bad:missing" },
        status: 404,
        code: "NOT_FOUND",
        message: /Reference "builds\/bad:missing" does not name a manifest/,
      },
      {
        name: "--from with a foreign host",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: "example.com/builds/bad:1" },
        status: 400,
        code: "INVALID",
        message: /without the host "example\.com"/,
      },
      {
        name: "--from that is not a reference",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: "Not A Ref!" },
        status: 400,
        code: "INVALID",
        message: /Invalid --from reference/,
      },
      {
        name: "EOL in the past",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: `builds/bad@${digest}`, eol: "2001-01-01" },
        status: 400,
        code: "INVALID",
        message: /Invalid eol "2001-01-01": the date is in the past/,
      },
      {
        name: "EOL not a date",
        method: "PATCH",
        path: "/galleries/bad/images/web/versions/1.0.0",
        body: { eol: "2099-02-30" },
        status: 400,
        code: "INVALID",
        message: /Invalid eol "2099-02-30": expected a date/,
      },
      {
        name: "oversized changelog",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: `builds/bad@${digest}`, changelog: big },
        status: 413,
        code: "TOO_LARGE",
        message: /Invalid body at "\/changelog"/,
      },
      {
        name: "oversized body",
        method: "POST",
        path: "/galleries/bad/images",
        body: { name: "big", kind: "container", description: "y".repeat(2 * 1024 * 1024) },
        status: 413,
        code: "TOO_LARGE",
        message: /larger than 1048576 bytes/,
      },
      {
        name: "too many labels",
        method: "POST",
        path: "/galleries/bad/images",
        body: {
          name: "lab",
          kind: "container",
          labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])),
        },
        status: 400,
        code: "INVALID",
        message: /labels/,
      },
      {
        name: "unknown field",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: `builds/bad@${digest}`, colour: "red" },
        status: 400,
        code: "INVALID",
        message: /unknown field "colour"/,
      },
      {
        name: "unknown query parameter",
        method: "GET",
        path: "/galleries/bad/images/web/versions?colour=red",
        status: 400,
        code: "INVALID",
        message: /Invalid query string/,
      },
      {
        name: "wrong type",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: 2, from: `builds/bad@${digest}` },
        status: 400,
        code: "INVALID",
        message: /Invalid body at "\/version"/,
      },
      {
        name: "invalid JSON",
        method: "POST",
        path: "/galleries/bad/images",
        body: '{"name": ',
        status: 400,
        code: "INVALID",
        message: /Invalid JSON body/,
      },
      {
        name: "bad kind",
        method: "POST",
        path: "/galleries/bad/images",
        body: { name: "k", kind: "lxc" },
        status: 400,
        code: "INVALID",
        message: /Invalid body at "\/kind"/,
      },
      {
        name: "vm fields on a container",
        method: "POST",
        path: "/galleries/bad/images",
        body: { name: "vmish", kind: "container", vm: { bootMode: "uefi" } },
        status: 400,
        code: "INVALID",
        message: /applies only to definitions of kind "vm"/,
      },
      {
        name: "bad gallery name",
        method: "POST",
        path: "/galleries",
        body: { name: "Bad Name" },
        status: 400,
        code: "INVALID",
        message: /Invalid gallery name "Bad Name"/,
      },
      {
        name: "existing gallery",
        method: "POST",
        path: "/galleries",
        body: { name: "bad" },
        status: 409,
        code: "CONFLICT",
        message: /Gallery "bad" already exists/,
      },
      {
        name: "bad channel name",
        method: "PUT",
        path: "/galleries/bad/images/web/channels/latest",
        body: { version: "1.0.0" },
        status: 400,
        code: "INVALID",
        message: /Invalid channel name "latest"/,
      },
      {
        name: "channel to an unknown version",
        method: "PUT",
        path: "/galleries/bad/images/web/channels/stable",
        body: { version: "9.9.9" },
        status: 404,
        code: "NOT_FOUND",
        message: /Version "bad\/web:9\.9\.9" does not exist/,
      },
      {
        name: "rollback to a version never pointed at",
        method: "POST",
        path: "/galleries/bad/images/web/channels/stable/rollback",
        body: { to: "1.0.0" },
        status: 409,
        code: "CONFLICT",
        message: /already points at "1\.0\.0"/,
      },
      {
        name: "reader publishes",
        method: "POST",
        path: "/galleries/bad/images/web/versions",
        body: { version: "2.0.0", from: `builds/bad@${digest}` },
        user: "dave",
        status: 403,
        code: "FORBIDDEN",
        message: /User "dave" is reader in gallery "bad"; this needs the publisher role/,
      },
      {
        name: "publisher changes the mode",
        method: "PATCH",
        path: "/galleries/bad",
        body: { mode: "off" },
        user: "carol",
        status: 403,
        code: "FORBIDDEN",
        message: /needs the admin role/,
      },
      {
        name: "publisher forces a delete",
        method: "DELETE",
        path: "/galleries/bad/images/web/versions/1.0.0?force=true",
        user: "carol",
        status: 403,
        code: "FORBIDDEN",
        message: /needs the admin role/,
      },
      {
        name: "publisher approves",
        method: "POST",
        path: "/requests/00000000-0000-0000-0000-000000000000/approve",
        body: {},
        user: "carol",
        status: 404,
        code: "NOT_FOUND",
        message: /Approval request/,
      },
      {
        name: "non-member",
        method: "GET",
        path: "/galleries/bad/images",
        user: "eve",
        status: 404,
        code: "NOT_FOUND",
        message: /Gallery "bad" does not exist/,
      },
      {
        name: "anonymous",
        method: "POST",
        path: "/galleries",
        body: { name: "anon" },
        user: "",
        status: 401,
        code: "UNAUTHORIZED",
        message: /Authentication required/,
      },
      {
        name: "bad role",
        method: "PUT",
        path: "/galleries/bad/members/eve",
        body: { role: "owner" },
        status: 400,
        code: "INVALID",
        message: /Invalid body at "\/role"/,
      },
      {
        name: "last admin demoted",
        method: "PUT",
        path: "/galleries/bad/members/alice",
        body: { role: "reader" },
        status: 409,
        code: "CONFLICT",
        message: /last admin/,
      },
      {
        name: "deprecate with an unknown replacement",
        method: "POST",
        path: "/galleries/bad/images/web/versions/1.0.0/deprecate",
        body: { replacement: "3.0.0" },
        status: 404,
        code: "NOT_FOUND",
        message: /does not exist/,
      },
      {
        name: "revoke without a reason",
        method: "POST",
        path: "/galleries/bad/images/web/versions/1.0.0/revoke",
        body: {},
        status: 400,
        code: "INVALID",
        message: /reason/,
      },
      {
        name: "restore a version that is not deleted",
        method: "POST",
        path: "/galleries/bad/images/web/versions/1.0.0/restore",
        body: {},
        status: 409,
        code: "CONFLICT",
        message: /is published, not deleted/,
      },
      {
        name: "unknown endpoint",
        method: "GET",
        path: "/nothing",
        status: 404,
        code: "NOT_FOUND",
        message: /No API endpoint GET \/api\/v1\/nothing/,
      },
      {
        name: "a method the endpoint does not have",
        method: "PUT",
        path: "/galleries",
        body: {},
        status: 405,
        code: "METHOD_NOT_ALLOWED",
        message: /Method PUT is not supported on "\/api\/v1\/galleries"/,
      },
    ];

    it("prepares a gallery", async () => {
      await h.setup("bad");
      digest = await h.push("builds/bad", "one", "bad-input-1");
      const first = await h.api(
        "POST",
        "/galleries/bad/images/web/versions",
        { version: "1.0.0", from: `builds/bad@${digest}` },
        "carol",
      );
      assert.equal(first.status, 201);
      assert.equal(
        (await h.api("PUT", "/galleries/bad/images/web/channels/stable", { version: "1.0.0" }, "carol"))
          .status,
        200,
      );
    });

    it("refuses each case with a clear error and changes nothing", async () => {
      for (const c of cases()) {
        const before = await snapshot();
        const answer = await h.api(c.method, c.path, c.body, c.user === "" ? undefined : (c.user ?? "alice"));
        assert.equal(answer.status, c.status, `${c.name}: ${JSON.stringify(answer.body)}`);
        const error = apiError(answer);
        assert.equal(error.code, c.code, c.name);
        assert.match(error.message, c.message, c.name);
        assert.deepEqual(await snapshot(), before, `${c.name}: state changed`);
      }
    });

    it("refuses a wrong password without identifying anyone", async () => {
      const res = await h.server.server.app.inject({
        url: "/api/v1/galleries",
        headers: { authorization: `Basic ${Buffer.from("alice:wrong").toString("base64")}` },
      });
      assert.equal(res.statusCode, 401);
      assert.match(JSON.parse(res.body).errors[0].message, /Invalid username or password/);
    });

    it("keeps version tags immutable and undeletable through the registry", async () => {
      const before = await snapshot();
      const other = await h.push("builds/bad", "two", "bad-input-2");
      const { pushImage } = await import("../../helpers/gallery.ts");
      await assert.rejects(
        pushImage(h.server.server.app, "bad/web", "1.0.0", "bad-input-2", { user: "alice" }),
        /manifest push 403: .*DENIED.*immutable/,
      );
      await assert.rejects(
        pushImage(h.server.server.app, "bad/web", "latest", "bad-input-2", { user: "alice" }),
        /manifest push 403: .*computed by the gallery/,
      );
      await assert.rejects(
        pushImage(h.server.server.app, "bad/web", "stable", "bad-input-2", { user: "alice" }),
        /manifest push 403: .*gallery channel/,
      );
      for (const ref of ["1.0.0", digest]) {
        const res = await h.server.server.app.inject({
          method: "DELETE",
          url: `/v2/bad/web/manifests/${ref}`,
          headers: { authorization: basic("alice") },
        });
        assert.equal(res.statusCode, 403, ref);
        assert.match(res.body, /gallery version/);
      }
      const manifest = JSON.parse((await h.pull("bad/web", digest)).body) as { layers: { digest: string }[] };
      const layer = manifest.layers[0]?.digest ?? "";
      const blobDelete = await h.server.server.app.inject({
        method: "DELETE",
        url: `/v2/bad/web/blobs/${layer}`,
        headers: { authorization: basic("alice") },
      });
      assert.equal(blobDelete.statusCode, 403);
      assert.match(blobDelete.body, /belongs to a gallery version/);
      const blobStill = await h.server.server.app.inject({
        method: "HEAD",
        url: `/v2/bad/web/blobs/${layer}`,
        headers: { authorization: basic("alice") },
      });
      assert.equal(blobStill.statusCode, 200);
      assert.deepEqual(await snapshot(), before);
      assert.notEqual(other, digest);
      // Plain tags in a gallery repository stay ordinary tags.
      await pushImage(h.server.server.app, "bad/web", "build-7", "bad-input-3", { user: "alice" });
    });
  });
}
