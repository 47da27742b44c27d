// Concurrency and abandoned requests: many clients pushing the same blob or moving the same tag
// stay consistent, and clients that abort 100 downloads and uploads midway leave the server up
// with no unhandled error.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { httpRequest, open, response } from "../helpers/http-client.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

let strata: RunningStrata;
before(async () => {
  strata = await startStrata();
});
after(async () => {
  await strata.stop();
});

async function pushBlob(repo: string, bytes: Buffer): Promise<number> {
  return (
    await httpRequest(strata.url, "POST", `/v2/${repo}/blobs/uploads/?digest=${digestOf(bytes)}`, {
      body: bytes,
    })
  ).status;
}

describe("concurrent pushes", () => {
  it("stores one copy when 10 clients push the same blob at once", async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const digest = digestOf(bytes);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pushBlob(`conc/blob${i % 3}`, bytes)),
    );
    assert.deepEqual(statuses, Array(10).fill(201));
    const hex = digest.slice(7);
    const dir = await readdir(join(strata.dataDir, "blobs", "sha256", hex.slice(0, 2)));
    assert.equal(dir.filter((n) => n === hex).length, 1);
    assert.deepEqual(await readdir(join(strata.dataDir, "tmp")), []);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(
        (await httpRequest(strata.url, "GET", `/v2/conc/blob${i}/blobs/${digest}`)).body,
        bytes,
      );
    }
  });

  it("leaves a tag on exactly one complete manifest when 20 clients move it at once", async () => {
    const config = EMPTY_CONFIG;
    assert.equal(await pushBlob("conc/tag", config), 201);
    const manifests = Array.from({ length: 20 }, (_, i) =>
      imageManifest(config, [], { annotations: { n: String(i) } }),
    );
    const results = await Promise.all(
      manifests.map((m) =>
        httpRequest(strata.url, "PUT", "/v2/conc/tag/manifests/latest", {
          body: m,
          headers: { "content-type": MediaType.ImageManifest },
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array(20).fill(201),
    );
    const got = await httpRequest(strata.url, "GET", "/v2/conc/tag/manifests/latest");
    assert.equal(got.status, 200);
    assert.ok(
      manifests.some((m) => m.equals(got.body)),
      "the tag points at one of the pushed manifests",
    );
    assert.equal(got.headers["docker-content-digest"], digestOf(got.body));
    for (const m of manifests) {
      assert.equal(
        (await httpRequest(strata.url, "HEAD", `/v2/conc/tag/manifests/${digestOf(m)}`)).status,
        200,
      );
    }
    const tags = JSON.parse(
      (await httpRequest(strata.url, "GET", "/v2/conc/tag/tags/list")).body.toString(),
    ) as { tags: string[] };
    assert.deepEqual(tags.tags, ["latest"]);
  });
});

describe("aborted requests", () => {
  it("survives 100 downloads and uploads aborted midway", async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const digest = digestOf(big);
    assert.equal(await pushBlob("abort/a", big), 201);
    const aborts: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      aborts.push(
        new Promise<void>((resolve) => {
          const req = open(strata.url, "GET", `/v2/abort/a/blobs/${digest}`, {});
          req.on("response", (res) => {
            res.once("data", () => {
              req.destroy();
              resolve();
            });
          });
          req.on("error", () => resolve());
          req.end();
        }),
      );
      aborts.push(
        (async () => {
          const fresh = randomBytes(1024 * 1024);
          const req = open(strata.url, "POST", `/v2/abort/b/blobs/uploads/?digest=${digestOf(fresh)}`, {
            "content-length": fresh.length * 4,
          });
          const answered = response(req).catch(() => undefined);
          req.write(fresh);
          await new Promise((r) => setImmediate(r));
          req.destroy();
          await answered;
        })(),
      );
    }
    await Promise.all(aborts);
    assert.equal((await httpRequest(strata.url, "GET", "/v2/")).status, 200);
    assert.deepEqual((await httpRequest(strata.url, "GET", `/v2/abort/a/blobs/${digest}`)).body, big);
    const catalog = JSON.parse((await httpRequest(strata.url, "GET", "/v2/_catalog")).body.toString()) as {
      repositories: string[];
    };
    assert.ok(!catalog.repositories.includes("abort/b"), "no aborted upload created anything");
    const log = strata.output();
    assert.match(log, /"msg":"request"/, "the server's log is captured");
    assert.ok(!/"level":(50|60)/.test(log), `error logged:\n${log.slice(-2000)}`);
    assert.ok(!/Unhandled|uncaught/i.test(log), `unhandled error:\n${log.slice(-2000)}`);
  });
});
