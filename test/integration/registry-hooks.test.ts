// The registry's resolution and policy hooks (what the gallery plugs into): a reference resolved
// at request time, pulls warned with a Warning header or denied, and tag pushes refused. A
// simple in-test policy stands in for the gallery here.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType, type Digest } from "../../src/oci/index.ts";
import type { RegistryHooks } from "../../src/registry/index.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

const pointers = new Map<string, Digest>();
const warned = new Set<Digest>();
const denied = new Set<Digest>();

const hooks: RegistryHooks = {
  async resolveReference(repository, reference) {
    return pointers.get(`${repository}:${reference}`);
  },
  async checkPull(_repository, _reference, digest) {
    if (denied.has(digest)) return { deny: `Version ${digest.slice(7, 19)} is revoked` };
    if (warned.has(digest)) return { warnings: ['Deprecated: use "1.0.1" instead\n'] };
    return {};
  },
  async checkTagPush(repository, tag, digest) {
    const current = pointers.get(`${repository}:${tag}`);
    return current !== undefined && current !== digest ? `Tag "${tag}" is immutable` : undefined;
  },
};

let strata: InProcess;
before(async () => {
  strata = await startInProcess({ hooks });
});
after(async () => {
  await strata.stop();
});

async function call(
  method: "GET" | "HEAD" | "PUT" | "POST",
  url: string,
  body?: Buffer,
  headers: Record<string, string> = {},
) {
  return strata.server.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body }) });
}

async function pushImage(repo: string, tag: string): Promise<{ digest: Digest; bytes: Buffer }> {
  const layer = randomBytes(100);
  for (const blob of [EMPTY_CONFIG, layer]) {
    const res = await call("POST", `/v2/${repo}/blobs/uploads/?digest=${digestOf(blob)}`, blob);
    assert.equal(res.statusCode, 201);
  }
  const bytes = imageManifest(EMPTY_CONFIG, [layer]);
  const res = await call("PUT", `/v2/${repo}/manifests/${tag}`, bytes, {
    "content-type": MediaType.ImageManifest,
  });
  assert.equal(res.statusCode, 201, res.body);
  return { digest: digestOf(bytes), bytes };
}

describe("registry hooks", () => {
  it("resolves a reference through the hook before tags", async () => {
    const one = await pushImage("prod/web", "build-1");
    const two = await pushImage("prod/web", "build-2");
    pointers.set("prod/web:production", one.digest);
    const got = await call("GET", "/v2/prod/web/manifests/production");
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.rawPayload, one.bytes);
    pointers.set("prod/web:production", two.digest);
    const moved = await call("HEAD", "/v2/prod/web/manifests/production");
    assert.equal(moved.headers["docker-content-digest"], two.digest);
  });

  it("adds a spec-shaped Warning header to a warned pull", async () => {
    const image = await pushImage("prod/api", "v1");
    warned.add(image.digest);
    const res = await call("GET", "/v2/prod/api/manifests/v1");
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.warning, `299 - "Deprecated: use '1.0.1' instead?"`);
  });

  it("refuses a denied pull with DENIED, by tag and by digest, and serves others", async () => {
    const image = await pushImage("prod/db", "v1");
    denied.add(image.digest);
    for (const ref of ["v1", image.digest]) {
      const res = await call("GET", `/v2/prod/db/manifests/${ref}`);
      assert.equal(res.statusCode, 403);
      assert.equal(
        (JSON.parse(res.body) as { errors: { code: string; message: string }[] }).errors[0]?.code,
        "DENIED",
      );
    }
    const other = await pushImage("prod/db", "v2");
    assert.equal((await call("GET", `/v2/prod/db/manifests/${other.digest}`)).statusCode, 200);
  });

  it("refuses a push that would move an immutable tag and keeps the old target", async () => {
    const first = await pushImage("prod/cache", "1.0.0");
    pointers.set("prod/cache:1.0.0", first.digest);
    const layer = randomBytes(50);
    await call("POST", `/v2/prod/cache/blobs/uploads/?digest=${digestOf(layer)}`, layer);
    const other = imageManifest(EMPTY_CONFIG, [layer]);
    const res = await call("PUT", "/v2/prod/cache/manifests/1.0.0", other, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(res.statusCode, 403);
    pointers.delete("prod/cache:1.0.0");
    const tag = await call("GET", "/v2/prod/cache/manifests/1.0.0");
    assert.deepEqual(tag.rawPayload, first.bytes);
    assert.equal((await call("GET", `/v2/prod/cache/manifests/${digestOf(other)}`)).statusCode, 404);
    pointers.set("prod/cache:1.0.0", first.digest);
    const same = await call("PUT", "/v2/prod/cache/manifests/1.0.0", first.bytes, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(same.statusCode, 201, "pushing the same content again is allowed");
  });
});
