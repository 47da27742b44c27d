// Durability: the server is killed with SIGKILL at several points of an upload and restarted.
// No partial blob may become visible, sessions resume or answer 404, and nothing committed is
// lost.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { httpRequest, open, response, until } from "../helpers/http-client.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

let strata: RunningStrata;
before(async () => {
  strata = await startStrata();
});
after(async () => {
  await strata.stop();
});

async function filesIn(dir: string): Promise<{ name: string; size: number }[]> {
  try {
    const names = await readdir(dir);
    return Promise.all(names.map(async (name) => ({ name, size: (await stat(join(dir, name))).size })));
  } catch {
    return [];
  }
}

async function poolHas(digest: string): Promise<boolean> {
  const hex = digest.slice("sha256:".length);
  return (await filesIn(join(strata.dataDir, "blobs", "sha256", hex.slice(0, 2)))).some(
    (f) => f.name === hex,
  );
}

function ignoreErrors(p: Promise<unknown>): void {
  p.catch(() => undefined);
}

describe("kill -9 during uploads", () => {
  it("leaves no partial blob after a kill in the middle of a monolithic upload", async () => {
    const bytes = randomBytes(8 * 1024 * 1024);
    const digest = digestOf(bytes);
    const req = open(strata.url, "POST", `/v2/dur/a/blobs/uploads/?digest=${digest}`, {
      "content-length": bytes.length,
      "content-type": "application/octet-stream",
    });
    ignoreErrors(response(req));
    req.write(bytes.subarray(0, 4 * 1024 * 1024));
    await until(
      async () => (await filesIn(join(strata.dataDir, "tmp"))).some((f) => f.size > 0),
      10_000,
      "bytes on disk",
    );
    await strata.kill9();
    req.destroy();
    assert.equal(await poolHas(digest), false);
    await strata.restart();
    const head = await httpRequest(strata.url, "HEAD", `/v2/dur/a/blobs/${digest}`);
    assert.equal(head.status, 404);
    assert.equal(await poolHas(digest), false);
    // The same blob can be pushed whole afterwards.
    const push = await httpRequest(strata.url, "POST", `/v2/dur/a/blobs/uploads/?digest=${digest}`, {
      body: bytes,
    });
    assert.equal(push.status, 201);
  });

  it("resumes a chunked upload from the offset the server reports after a kill mid-chunk", async () => {
    const bytes = randomBytes(6 * 1024 * 1024);
    const digest = digestOf(bytes);
    const start = await httpRequest(strata.url, "POST", "/v2/dur/b/blobs/uploads/");
    assert.equal(start.status, 202);
    const location = String(start.headers.location);
    const first = await httpRequest(strata.url, "PATCH", location, {
      body: bytes.subarray(0, 2 * 1024 * 1024),
      headers: { "content-range": `0-${2 * 1024 * 1024 - 1}`, "content-type": "application/octet-stream" },
    });
    assert.equal(first.status, 202);
    const id = location.split("/").pop() ?? "";
    const req = open(strata.url, "PATCH", location, {
      "content-range": `${2 * 1024 * 1024}-${bytes.length - 1}`,
      "content-length": bytes.length - 2 * 1024 * 1024,
      "content-type": "application/octet-stream",
    });
    ignoreErrors(response(req));
    req.write(bytes.subarray(2 * 1024 * 1024, 3 * 1024 * 1024));
    await until(
      async () =>
        (await filesIn(join(strata.dataDir, "uploads"))).some(
          (f) => f.name === id && f.size > 2 * 1024 * 1024,
        ),
      10_000,
      "the second chunk on disk",
    );
    await strata.kill9();
    req.destroy();
    await strata.restart();
    assert.equal(await poolHas(digest), false);
    const status = await httpRequest(strata.url, "GET", location);
    if (status.status === 404) return; // an ended session is an allowed outcome
    assert.equal(status.status, 204);
    const range = /^0-(\d+)$/.exec(String(status.headers.range));
    assert.ok(range, `Range ${String(status.headers.range)}`);
    const offset = Number(range[1]) + 1;
    assert.equal(offset, 2 * 1024 * 1024, "the half-written chunk is not counted");
    const rest = await httpRequest(strata.url, "PUT", `${location}?digest=${digest}`, {
      body: bytes.subarray(offset),
      headers: {
        "content-range": `${offset}-${bytes.length - 1}`,
        "content-type": "application/octet-stream",
      },
    });
    assert.equal(rest.status, 201, rest.body.toString());
    const pulled = await httpRequest(strata.url, "GET", `/v2/dur/b/blobs/${digest}`);
    assert.deepEqual(pulled.body, bytes);
  });

  it("continues a session after a kill between chunks", async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const digest = digestOf(bytes);
    const location = String(
      (await httpRequest(strata.url, "POST", "/v2/dur/c/blobs/uploads/")).headers.location,
    );
    const first = await httpRequest(strata.url, "PATCH", location, {
      body: bytes.subarray(0, 1024 * 1024),
      headers: { "content-range": `0-${1024 * 1024 - 1}` },
    });
    assert.equal(first.status, 202);
    await strata.kill9();
    await strata.restart();
    const put = await httpRequest(strata.url, "PUT", `${location}?digest=${digest}`, {
      body: bytes.subarray(1024 * 1024),
      headers: { "content-range": `${1024 * 1024}-${bytes.length - 1}` },
    });
    assert.equal(put.status, 201, put.body.toString());
    assert.deepEqual((await httpRequest(strata.url, "GET", `/v2/dur/c/blobs/${digest}`)).body, bytes);
  });

  it("keeps everything acknowledged before the kill", async () => {
    const layer = randomBytes(100_000);
    const config = EMPTY_CONFIG;
    for (const blob of [layer, config]) {
      const res = await httpRequest(strata.url, "POST", `/v2/dur/d/blobs/uploads/?digest=${digestOf(blob)}`, {
        body: blob,
      });
      assert.equal(res.status, 201);
    }
    const manifest = imageManifest(config, [layer]);
    const put = await httpRequest(strata.url, "PUT", "/v2/dur/d/manifests/v1", {
      body: manifest,
      headers: { "content-type": MediaType.ImageManifest },
    });
    assert.equal(put.status, 201);
    await strata.kill9();
    await strata.restart();
    const got = await httpRequest(strata.url, "GET", "/v2/dur/d/manifests/v1");
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, manifest);
    assert.deepEqual(
      (await httpRequest(strata.url, "GET", `/v2/dur/d/blobs/${digestOf(layer)}`)).body,
      layer,
    );
  });

  it("makes no half-written manifest visible after a kill during its PUT", async () => {
    const config = EMPTY_CONFIG;
    await httpRequest(strata.url, "POST", `/v2/dur/e/blobs/uploads/?digest=${digestOf(config)}`, {
      body: config,
    });
    const manifest = imageManifest(config, []);
    const req = open(strata.url, "PUT", "/v2/dur/e/manifests/v1", {
      "content-type": MediaType.ImageManifest,
      "content-length": manifest.length,
    });
    ignoreErrors(response(req));
    req.write(manifest.subarray(0, 40));
    await until(
      async () => (await httpRequest(strata.url, "GET", "/v2/")).status === 200,
      5_000,
      "server alive",
    );
    await strata.kill9();
    req.destroy();
    await strata.restart();
    assert.equal((await httpRequest(strata.url, "GET", "/v2/dur/e/manifests/v1")).status, 404);
    assert.equal(
      (await httpRequest(strata.url, "GET", `/v2/dur/e/manifests/${digestOf(manifest)}`)).status,
      404,
    );
  });
});
