// Gallery members get registry access to the gallery's repositories by role, on top of the
// access rules: readers pull, publishers and approvers push, admins delete; others get nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hashPassword } from "../../../src/registry/index.ts";
import { basic, galleryApi, PASSWORD, pushImage } from "../../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";

describe("registry access from gallery roles", () => {
  let s: InProcess;
  before(async () => {
    const hash = await hashPassword(PASSWORD, { logN: 10 });
    const users = ["alice", "carol", "dave", "eve"]
      .map((u) => `    ${u}: { password: "${hash}" }`)
      .join("\n");
    s = await startInProcess({
      yaml: `auth:\n  users:\n${users}\n  access:\n    - { repositories: ["builds/**"], users: [alice], actions: [pull, push] }\n`,
    });
    const api = galleryApi(s.server.app);
    assert.equal(
      (
        await api(
          "POST",
          "/galleries",
          { name: "prod", members: { carol: "publisher", dave: "reader" } },
          "alice",
        )
      ).status,
      201,
    );
  });
  after(() => s.stop());

  const status = async (method: string, url: string, user: string) =>
    (await s.server.app.inject({ method: method as "GET", url, headers: { authorization: basic(user) } }))
      .statusCode;

  it("lets a publisher push and a reader pull, and no one else", async () => {
    const digest = await pushImage(s.server.app, "prod/web", "build-1", "role-grants", { user: "carol" });
    assert.equal(await status("GET", `/v2/prod/web/manifests/${digest}`, "dave"), 200);
    assert.equal(await status("GET", `/v2/prod/web/manifests/${digest}`, "eve"), 403);
    await assert.rejects(
      pushImage(s.server.app, "prod/web", "build-2", "reader-push", { user: "dave" }),
      /403/,
    );
    assert.equal(await status("DELETE", `/v2/prod/web/manifests/build-1`, "carol"), 403);
    assert.equal(await status("DELETE", `/v2/prod/web/manifests/build-1`, "alice"), 202);
    // Roles reach only their own gallery.
    await assert.rejects(pushImage(s.server.app, "other/web", "x", "elsewhere", { user: "carol" }), /403/);
  });

  it("lets a publisher pin only content they may pull", async () => {
    const api = galleryApi(s.server.app);
    assert.equal(
      (await api("POST", "/galleries/prod/images", { name: "app", kind: "container" }, "carol")).status,
      201,
    );
    const digest = await pushImage(s.server.app, "builds/secret", "1", "secret-content", { user: "alice" });
    const refused = await api(
      "POST",
      "/galleries/prod/images/app/versions",
      { version: "1.0.0", from: `builds/secret@${digest}` },
      "carol",
    );
    assert.equal(refused.status, 403);
    assert.match(refused.body.errors[0].message, /User "carol" may not pull from "builds\/secret"/);
    assert.deepEqual((await api("GET", "/galleries/prod/images/app/versions", undefined, "alice")).body, []);
    assert.equal(await status("GET", `/v2/prod/app/manifests/${digest}`, "alice"), 404);
    // alice may pull it, and is admin of the gallery.
    assert.equal(
      (
        await api(
          "POST",
          "/galleries/prod/images/app/versions",
          { version: "1.0.0", from: `builds/secret@${digest}` },
          "alice",
        )
      ).status,
      201,
    );
  });

  it("issues tokens with what the role grants", async () => {
    const res = await s.server.app.inject({
      url: "/token?service=strata&scope=repository:prod/web:pull,push",
      headers: { authorization: basic("dave") },
    });
    assert.equal(res.statusCode, 200);
    const token = JSON.parse(res.body).token as string;
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    assert.deepEqual(claims.access, [{ type: "repository", name: "prod/web", actions: ["pull"] }]);
  });

  it("accepts the registry's bearer tokens on the gallery API", async () => {
    const token = await s.server.app.inject({
      url: "/token?service=strata",
      headers: { authorization: basic("dave") },
    });
    const bearer = `Bearer ${JSON.parse(token.body).token as string}`;
    const whoami = await s.server.app.inject({ url: "/api/v1/whoami", headers: { authorization: bearer } });
    assert.deepEqual(JSON.parse(whoami.body), { user: "dave", authentication: true, anonymous: "none" });
    const galleries = await s.server.app.inject({
      url: "/api/v1/galleries",
      headers: { authorization: bearer },
    });
    assert.deepEqual(
      JSON.parse(galleries.body).map((g: { name: string }) => g.name),
      ["prod"],
    );
    const forged = await s.server.app.inject({
      url: "/api/v1/galleries",
      headers: { authorization: `${bearer}x` },
    });
    assert.equal(forged.statusCode, 401);
  });

  it("lists only the gallery repositories a member may pull in the catalog", async () => {
    await pushImage(s.server.app, "builds/app", "1", "catalog", { user: "alice" });
    const res = await s.server.app.inject({ url: "/v2/_catalog", headers: { authorization: basic("dave") } });
    assert.deepEqual(JSON.parse(res.body).repositories, ["prod/app", "prod/web"]);
  });
});
