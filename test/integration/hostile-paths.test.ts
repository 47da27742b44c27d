// Hostile repository names over a real socket: node's HTTP client sends the path as written
// (no dot-segment or percent normalization), as an attacker's client would.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../../src/oci/index.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let strata: InProcess;
before(async () => {
  strata = await startInProcess({ listen: true });
});
after(async () => {
  await strata.stop();
});

function send(method: string, path: string, body?: Buffer): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(strata.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, method, path, headers: body ? { "content-length": body.length } : {} },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const names = [
  "..",
  "a/../b",
  "a/./b",
  "a/%2e%2e/b",
  "%2e%2e/%2e%2e/etc",
  "a%2fb",
  "a%00b",
  "a\\b",
  "a%5cb",
  "UPPER/case",
  "a//b",
  "-lead",
  "trail-",
  "x".repeat(256),
  "a/.hidden",
];

describe("hostile repository names", () => {
  for (const name of names) {
    it(`refuses ${JSON.stringify(name.slice(0, 24))} with NAME_INVALID and stores nothing`, async () => {
      const bytes = Buffer.from(`payload for ${name}`);
      const digest = digestOf(bytes);
      const push = await send("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, bytes);
      assert.equal(push.status, 400, push.body);
      assert.equal((JSON.parse(push.body) as { errors: { code: string }[] }).errors[0]?.code, "NAME_INVALID");
      const pull = await send("GET", `/v2/${name}/manifests/latest`);
      assert.equal(pull.status, 400);
      const catalog = JSON.parse((await send("GET", "/v2/_catalog")).body) as { repositories: string[] };
      assert.deepEqual(catalog.repositories, []);
    });
  }

  it("stays up and answers the ping after all of them", async () => {
    assert.equal((await send("GET", "/v2/")).status, 200);
  });
});
