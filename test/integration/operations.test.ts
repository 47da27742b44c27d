// Operating the server: Prometheus metrics, and graceful shutdown that lets an in-flight upload
// finish within the grace period or aborts it cleanly after it.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../../src/oci/index.ts";
import { httpRequest, open, response, until } from "../helpers/http-client.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { startStrata } from "../helpers/strata-server.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("metrics", () => {
  let strata: InProcess;
  before(async () => {
    strata = await startInProcess({ listen: true });
  });
  after(async () => {
    await strata.stop();
  });

  it("counts requests by route and status, bytes, latency, uploads and stored bytes", async () => {
    const blob = randomBytes(10_000);
    await httpRequest(strata.url, "POST", `/v2/met/a/blobs/uploads/?digest=${digestOf(blob)}`, {
      body: blob,
    });
    await httpRequest(strata.url, "GET", `/v2/met/a/blobs/${digestOf(blob)}`);
    await httpRequest(strata.url, "GET", "/v2/met/a/manifests/missing");
    await httpRequest(strata.url, "POST", "/v2/met/a/blobs/uploads/");
    const res = await httpRequest(strata.url, "GET", "/metrics");
    assert.equal(res.status, 200);
    assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    const text = res.body.toString();
    assert.match(text, /strata_http_requests_total\{method="GET",route="blob",status="200"\} 1/);
    assert.match(text, /strata_http_requests_total\{method="GET",route="manifest",status="404"\} 1/);
    assert.match(
      text,
      /strata_http_request_duration_seconds_bucket\{method="POST",route="upload-start",le="\+Inf"\} 2/,
    );
    const bytesIn = /strata_http_received_bytes_total\{route="upload-start"\} (\d+)/.exec(text);
    assert.ok(bytesIn && Number(bytesIn[1]) >= 10_000, "bytes received counted");
    const bytesOut = /strata_http_sent_bytes_total\{route="blob"\} (\d+)/.exec(text);
    assert.ok(bytesOut && Number(bytesOut[1]) >= 10_000, "bytes sent counted");
    assert.match(text, /strata_uploads_open 1/);
    const stored = /strata_stored_bytes (\d+)/.exec(text);
    assert.ok(stored && Number(stored[1]) >= 10_000, "stored bytes reported");
  });
});

describe("graceful shutdown", () => {
  it("lets an upload in flight finish, refuses new work, then exits", async () => {
    const strata = await startStrata();
    try {
      const bytes = randomBytes(4 * 1024 * 1024);
      const digest = digestOf(bytes);
      const req = open(strata.url, "POST", `/v2/grace/a/blobs/uploads/?digest=${digest}`, {
        "content-length": bytes.length,
      });
      const answered = response(req);
      req.write(bytes.subarray(0, 1024 * 1024));
      await until(
        async () => (await readdir(join(strata.dataDir, "tmp")).catch(() => [])).length > 0,
        10_000,
        "upload started",
      );
      process.kill(strata.pid, "SIGTERM");
      await until(
        async () =>
          (await httpRequest(strata.url, "GET", "/v2/").catch(() => ({ status: 0 }))).status !== 200,
        10_000,
        "new work refused",
      );
      req.end(bytes.subarray(1024 * 1024));
      assert.equal((await answered).status, 201);
      await until(() => !alive(strata.pid), 10_000, "exit");
      await strata.restart();
      assert.deepEqual((await httpRequest(strata.url, "GET", `/v2/grace/a/blobs/${digest}`)).body, bytes);
    } finally {
      await strata.stop();
    }
  });

  it("aborts an upload still running when the grace period ends and keeps nothing of it", async () => {
    const strata = await startStrata({ config: "shutdown:\n  grace: 200ms\n" });
    try {
      const bytes = randomBytes(4 * 1024 * 1024);
      const digest = digestOf(bytes);
      const req = open(strata.url, "POST", `/v2/grace/b/blobs/uploads/?digest=${digest}`, {
        "content-length": bytes.length,
      });
      const answered = response(req).catch((error: unknown) => error);
      req.write(bytes.subarray(0, 1024 * 1024));
      await until(
        async () => (await readdir(join(strata.dataDir, "tmp")).catch(() => [])).length > 0,
        10_000,
        "upload started",
      );
      process.kill(strata.pid, "SIGTERM");
      await until(() => !alive(strata.pid), 10_000, "exit after the grace period");
      assert.ok((await answered) instanceof Error, "the client saw the connection close");
      await strata.restart();
      assert.equal((await httpRequest(strata.url, "HEAD", `/v2/grace/b/blobs/${digest}`)).status, 404);
      assert.deepEqual(await readdir(join(strata.dataDir, "tmp")), []);
    } finally {
      await strata.stop();
    }
  });
});
