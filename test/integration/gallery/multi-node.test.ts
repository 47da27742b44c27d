// Two servers sharing one PostgreSQL: a change made on one is served by the other at once
// (versions, channels, lifecycle), and every webhook event is delivered exactly once although
// both servers deliver.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { authYaml, basic, galleryApi, pushImage } from "../../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";
import { startPostgres, type Postgres } from "../../helpers/postgres.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../helpers/webhook-receiver.ts";

describe("gallery on two servers sharing PostgreSQL", () => {
  let pg: Postgres;
  let hooks: WebhookReceiver;
  let a: InProcess;
  let b: InProcess;
  before(async () => {
    pg = await startPostgres();
    hooks = await startWebhookReceiver();
    const yaml = await authYaml(
      ["alice"],
      `gallery:\n  webhooks:\n    ci: { url: "${hooks.url}", secret: "s" }\n  delivery: { backoff: 50ms }\n`,
    );
    a = await startInProcess({ yaml, database: pg.url });
    // Blobs on one shared folder, metadata in the shared database.
    b = await startInProcess({ yaml, database: pg.url, data: `${a.dataDir}/data` });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await hooks?.close();
    await pg?.stop();
  });

  it("serves on one server what was published on the other, and delivers each event once", async () => {
    const apiA = galleryApi(a.server.app);
    const apiB = galleryApi(b.server.app);
    assert.equal((await apiA("POST", "/galleries", { name: "shared" }, "alice")).status, 201);
    assert.equal(
      (await apiB("POST", "/galleries/shared/images", { name: "web", kind: "container" }, "alice")).status,
      201,
    );
    const versions = Array.from({ length: 10 }, (_, i) => `1.${i}.0`);
    for (const [i, version] of versions.entries()) {
      const [api, server] = i % 2 === 0 ? [apiA, a] : [apiB, b];
      const digest = await pushImage(server.server.app, "builds/shared", `t${i}`, `shared-${i}`, {
        user: "alice",
      });
      assert.equal(
        (
          await api(
            "POST",
            "/galleries/shared/images/web/versions",
            { version, from: `builds/shared@${digest}` },
            "alice",
          )
        ).status,
        201,
      );
    }
    assert.equal(
      (await apiA("GET", "/galleries/shared/images/web/latest", undefined, "alice")).body.version,
      "1.9.0",
    );
    await apiB("POST", "/galleries/shared/images/web/versions/1.9.0/revoke", { reason: "bad" }, "alice");
    const pulled = await a.server.app.inject({
      url: "/v2/shared/web/manifests/1.9.0",
      headers: { authorization: basic("alice") },
    });
    assert.equal(pulled.statusCode, 403);
    const events = () => hooks.received.map((r) => JSON.parse(r.body) as { id: string; type: string });
    await hooks.waitFor(() => events().length >= 11);
    // Give a duplicate delivery, if there were one, time to arrive.
    await new Promise((r) => setTimeout(r, 1500));
    const ids = events().map((e) => e.id);
    assert.equal(ids.length, 11);
    assert.equal(new Set(ids).size, 11);
    assert.deepEqual(
      events()
        .map((e) => e.type)
        .sort(),
      [...Array(10).fill("version.published"), "version.revoked"],
    );
  });
});
