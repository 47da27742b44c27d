// Gallery state and queued webhook events survive a kill -9 of the server: a published version
// still resolves after the restart, and an event whose delivery had failed before the crash is
// delivered by the restarted server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startStrata, type RunningStrata } from "../../helpers/strata-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../helpers/webhook-receiver.ts";
import { digestOf, MediaType } from "../../../src/oci/index.ts";
import { EMPTY_CONFIG } from "../../helpers/manifests.ts";

async function api(
  server: RunningStrata,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed answers, checked field by field
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function pushImage(server: RunningStrata, repository: string, tag: string): Promise<string> {
  const layer = Buffer.from(`durable layer ${tag}`);
  for (const blob of [EMPTY_CONFIG, layer]) {
    const res = await fetch(`${server.url}/v2/${repository}/blobs/uploads/?digest=${digestOf(blob)}`, {
      method: "POST",
      body: blob,
    });
    assert.equal(res.status, 201);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: { mediaType: MediaType.ImageConfig, digest: digestOf(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
      layers: [{ mediaType: MediaType.ImageLayerGzip, digest: digestOf(layer), size: layer.length }],
    }),
  );
  const res = await fetch(`${server.url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": MediaType.ImageManifest },
    body: manifest,
  });
  assert.equal(res.status, 201);
  return digestOf(manifest);
}

describe("gallery across a kill -9", () => {
  let server: RunningStrata;
  let hooks: WebhookReceiver;
  before(async () => {
    hooks = await startWebhookReceiver();
    server = await startStrata({
      config: `gallery:\n  webhooks:\n    ci: { url: "${hooks.url}", secret: "s" }\n  delivery: { backoff: 3s }\n`,
    });
  });
  after(async () => {
    await server?.stop();
    await hooks?.close();
  });

  it("keeps versions and delivers events queued before the crash", async () => {
    assert.equal((await api(server, "POST", "/galleries", { name: "dur" })).status, 201);
    assert.equal(
      (await api(server, "POST", "/galleries/dur/images", { name: "web", kind: "container" })).status,
      201,
    );
    const digest = await pushImage(server, "builds/dur", "b1");
    // The receiver refuses the first delivery; the retry is due only after the crash.
    hooks.failNext(1);
    assert.equal(
      (
        await api(server, "POST", "/galleries/dur/images/web/versions", {
          version: "1.0.0",
          from: "builds/dur:b1",
        })
      ).status,
      201,
    );
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 10_000;
      const poll = async () => {
        const failed = await api(server, "GET", "/webhooks/deliveries?state=pending");
        if (failed.body.some((d: { attempts: number }) => d.attempts === 1)) return resolve();
        if (Date.now() > deadline) return reject(new Error("the first delivery attempt did not happen"));
        setTimeout(() => void poll(), 50);
      };
      void poll();
    });
    assert.equal(hooks.received.length, 0);
    await server.kill9();
    await server.restart();
    const version = await api(server, "GET", "/galleries/dur/images/web/versions/1.0.0");
    assert.equal(version.body.digest, digest);
    const pulled = await fetch(`${server.url}/v2/dur/web/manifests/latest`, { method: "HEAD" });
    assert.equal(pulled.headers.get("docker-content-digest"), digest);
    await hooks.waitFor((got) => got.length >= 1);
    const event = JSON.parse(hooks.received[0]?.body ?? "{}") as { type: string; version: string };
    assert.deepEqual([event.type, event.version], ["version.published", "1.0.0"]);
    const delivered = await api(server, "GET", "/webhooks/deliveries?state=delivered");
    assert.equal(delivered.body[0].attempts, 2);
  });
});
