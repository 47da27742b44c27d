// A Strata site with users: the configured site user creates the gallery and the definition
// there (becoming the gallery's admin), pushes the content and publishes the version as itself;
// a site user with a wrong password leaves the copy failed with the site's refusal as the reason.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { authYaml, galleryApi, PASSWORD, pushImage } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let site: InProcess;
let source: InProcess;
let api: ReturnType<typeof galleryApi>;
let siteApi: ReturnType<typeof galleryApi>;

before(async () => {
  site = await startInProcess({ listen: true, yaml: await authYaml(["replicator", "alice"]) });
  source = await startInProcess({
    yaml: [
      "sites:",
      `  eu: { url: "${site.url}", kind: strata, username: replicator, password: "${PASSWORD}" }`,
      `  bad: { url: "${site.url}", kind: strata, username: replicator, password: wrong }`,
      "replication: { interval: 50ms, backoff: 1h }",
      "",
    ].join("\n"),
  });
  api = galleryApi(source.server.app);
  siteApi = galleryApi(site.server.app);
  assert.equal((await api("POST", "/galleries", { name: "apps", approvals: 0, restoreDays: 3 })).status, 201);
  assert.equal(
    (await api("POST", "/galleries/apps/images", { name: "web", kind: "container", arch: "amd64" })).status,
    201,
  );
  await pushImage(source.server.app, "apps/web", "build", "auth-1");
  assert.equal(
    (await api("POST", "/galleries/apps/images/web/versions", { version: "1.0.0", from: "apps/web:build" }))
      .status,
    201,
  );
});

after(async () => {
  await source?.stop();
  await site?.stop();
});

async function until(site: string, state: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await api("GET", "/galleries/apps/images/web/versions/1.0.0/replication");
    const row = rows.body.find((r: { site: string }) => r.site === site);
    if (row?.state === state) return row;
    if (Date.now() > deadline) throw new Error(`${site} not ${state}: ${JSON.stringify(rows.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a Strata site with users", () => {
  it("gets the gallery, definition and version from the configured site user", async () => {
    const set = await api("PUT", "/galleries/apps/images/web/versions/1.0.0/replication", { sites: ["eu"] });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    await until("eu", "completed");
    const gallery = await siteApi("GET", "/galleries/apps", undefined, "replicator");
    assert.equal(gallery.status, 200);
    assert.equal(gallery.body.members.replicator, "admin");
    assert.equal(gallery.body.restoreDays, 3);
    const definition = await siteApi("GET", "/galleries/apps/images/web", undefined, "replicator");
    assert.equal(definition.body.arch, "amd64");
    const version = await siteApi(
      "GET",
      "/galleries/apps/images/web/versions/1.0.0",
      undefined,
      "replicator",
    );
    assert.equal(version.body.publishedBy, "replicator");
    // Others see nothing of it there unless made members.
    assert.equal((await siteApi("GET", "/galleries/apps", undefined, "alice")).status, 404);
  });

  it("fails with the site's refusal when the site user's password is wrong", async () => {
    const set = await api("PUT", "/galleries/apps/images/web/versions/1.0.0/replication", {
      sites: ["eu", "bad"],
    });
    assert.equal(set.status, 200);
    const failed = await until("bad", "failed");
    assert.match(failed.error, /401|UNAUTHORIZED|credentials/i);
    assert.equal((await until("eu", "completed")).attempts, 1);
  });
});
