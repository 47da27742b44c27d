// Several servers sharing one data set: metadata in a real PostgreSQL, blobs in one directory.
// What one server accepts, the other serves, and an upload started on one finishes on the other.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";

let pg: Postgres;
let shared: string;
let a: InProcess;
let b: InProcess;

before(async () => {
  pg = await startPostgres();
  const database = await pg.newDatabase();
  shared = await mkdtemp(join(tmpdir(), "strata-shared-"));
  [a, b] = await Promise.all([
    startInProcess({ listen: true, database, data: shared }),
    startInProcess({ listen: true, database, data: shared }),
  ]);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(shared, { recursive: true, force: true });
  await pg?.stop();
});

describe("two servers on one PostgreSQL and one data directory", () => {
  it("serves from one what was pushed to the other, tags included", async () => {
    const config = EMPTY_CONFIG;
    const layer = randomBytes(300_000);
    for (const blob of [config, layer]) {
      const res = await httpRequest(a.url, "POST", `/v2/multi/app/blobs/uploads/?digest=${digestOf(blob)}`, {
        body: blob,
      });
      assert.equal(res.status, 201);
    }
    const manifest = imageManifest(config, [layer]);
    const put = await httpRequest(b.url, "PUT", "/v2/multi/app/manifests/v1", {
      body: manifest,
      headers: { "content-type": MediaType.ImageManifest },
    });
    assert.equal(put.status, 201, put.body.toString());
    const got = await httpRequest(a.url, "GET", "/v2/multi/app/manifests/v1");
    assert.deepEqual(got.body, manifest);
    assert.deepEqual((await httpRequest(b.url, "GET", `/v2/multi/app/blobs/${digestOf(layer)}`)).body, layer);
  });

  it("finishes on one server an upload started on the other", async () => {
    const bytes = randomBytes(2_000_000);
    const start = await httpRequest(a.url, "POST", "/v2/multi/up/blobs/uploads/");
    const location = String(start.headers.location);
    const first = await httpRequest(a.url, "PATCH", location, {
      body: bytes.subarray(0, 1_000_000),
      headers: { "content-range": "0-999999" },
    });
    assert.equal(first.status, 202);
    const status = await httpRequest(b.url, "GET", location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.range, "0-999999");
    const put = await httpRequest(b.url, "PUT", `${location}?digest=${digestOf(bytes)}`, {
      body: bytes.subarray(1_000_000),
      headers: { "content-range": `1000000-${bytes.length - 1}` },
    });
    assert.equal(put.status, 201, put.body.toString());
    assert.deepEqual((await httpRequest(a.url, "GET", `/v2/multi/up/blobs/${digestOf(bytes)}`)).body, bytes);
  });
});
