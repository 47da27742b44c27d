// The policies outside the pull path, through a real server: `strata policy check` decides
// references at the check point with an exit code per outcome, `strata policy list` and
// `decisions` read the configuration and the log, `strata run` is refused by a policy before
// anything is pulled, and the admission webhook (over HTTPS) decides with the real engine —
// non-gallery images refused in the namespace a policy scopes, tags of this server pinned.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../../src/cli/run-cli.ts";
import { pushImage } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { memoryIo } from "../helpers/memory-io.ts";
import { freePort } from "../helpers/ports.ts";
import { createTestCa } from "../helpers/test-ca.ts";

type Json = Record<string, unknown>;
let dir: string;
let s: InProcess;
let host: string;
let ca: Buffer;
let digest: string;

async function strata(...args: string[]) {
  const io = memoryIo({ STRATA_SERVER: s.url, STRATA_CONFIG_DIR: dir, STRATA_DATA_DIR: join(dir, "local") });
  const code = await runCli(["node", "strata", ...args], io);
  return { code, out: io.out(), err: io.err() };
}

function review(namespace: string, image: string): Json {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      name: "p",
      namespace,
      operation: "CREATE",
      userInfo: { username: "deployer" },
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: { containers: [{ name: "c", image }] },
      },
      oldObject: null,
      dryRun: false,
    },
  };
}

function admit(path: string, body: Json): Promise<Json> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, s.server.admission?.url),
      {
        method: "POST",
        ca,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            assert.equal(res.statusCode, 200);
            resolve((JSON.parse(Buffer.concat(chunks).toString()) as { response: Json }).response);
          } catch (error) {
            reject(error as Error);
          }
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-policy-cli-"));
  const testCa = await createTestCa(dir);
  const cert = await testCa.issue("webhook", "server");
  ca = await readFile(testCa.cert);
  const yaml = [
    "admission:",
    `  addr: 127.0.0.1:${await freePort()}`,
    `  certificate: ${cert.cert}`,
    `  key: ${cert.key}`,
    "policies:",
    "  - name: pinned",
    "    mode: enforce",
    '    scope: { repositories: ["app/**"] }',
    "    points: [check, run]",
    "    rules: { noMovableTags: true }",
    "  - name: sbom-wanted",
    "    mode: warn",
    '    scope: { repositories: ["app/**"] }',
    "    points: [check, run]",
    "    rules: { sbom: true }",
    "  - name: prod-gallery-only",
    "    mode: enforce",
    '    scope: { namespaces: ["prod"] }',
    "    points: [admission]",
    "    rules: { galleryOnly: true }",
  ].join("\n");
  s = await startInProcess({ listen: true, yaml });
  host = new URL(s.url).host;
  digest = await pushImage(s.server.app, "app/web", "1.0.0", "web-1");
  await pushImage(s.server.app, "app/web", "latest", "web-1");
  await pushImage(s.server.app, "other/tool", "main", "tool");
});

after(async () => {
  await s.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("strata policy", () => {
  it("check: 3 when only warned, 1 when denied, 0 when allowed, 2 on usage", async () => {
    const warned = await strata("policy", "check", `${host}/app/web:1.0.0`);
    assert.equal(warned.code, 3, warned.err);
    assert.match(
      warned.out,
      new RegExp(`^warn\\t${host}/app/web:1\\.0\\.0@${digest}\\n  policy "sbom-wanted" rule sbom: `),
    );
    const denied = await strata("policy", "check", "app/web:1.0.0", "app/web:latest");
    assert.equal(denied.code, 1, denied.err);
    assert.match(
      denied.out,
      /^deny\tapp\/web:latest@sha256:\w+\n {2}policy "pinned" rule noMovableTags: tag "latest" is movable/m,
    );
    const allowed = await strata("policy", "check", "other/tool:main");
    assert.equal(allowed.code, 0, allowed.err);
    assert.match(allowed.out, /^allow\tother\/tool:main@sha256:/);
    const json = await strata("policy", "check", "--json", "app/web:latest");
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.out).results[0].failures[0].rule, "noMovableTags");
    const usage = await strata("policy", "check");
    assert.equal(usage.code, 2);
    const bad = await strata("policy", "check", "Not A Reference");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /Invalid reference/);
  });

  it("list shows the policies; decisions lists the recorded ones with filters", async () => {
    const list = await strata("policy", "list");
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /pinned\s+enforce\s+check,run\s+app\/\*\*\s+noMovableTags/);
    const decisions = await strata("policy", "decisions", "--json", "--outcome", "deny", "--point", "check");
    assert.equal(decisions.code, 0, decisions.err);
    const entries = JSON.parse(decisions.out) as { reference: string; failures: { policy: string }[] }[];
    assert.ok(entries.length > 0);
    assert.ok(
      entries.every((e) => e.failures.some((f) => f.policy === "pinned")),
      JSON.stringify(entries, null, 1),
    );
    assert.ok(entries.some((e) => e.reference === "app/web:latest"));
    const table = await strata("policy", "decisions", "--policy", "sbom-wanted");
    assert.match(table.out, /check\s+warn\s+.*app\/web:1\.0\.0/);
    const badPoint = await strata("policy", "decisions", "--point", "nowhere");
    assert.equal(badPoint.code, 2);
  });

  it("strata run is refused by a policy of the server before anything is pulled", async () => {
    const refused = await strata("run", `${host}/app/web:latest`, "true");
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /is refused by the policies of http:\/\/.*: policy "pinned" rule noMovableTags/,
    );
  });

  it("strata vm run is refused the same way before the disk is fetched or QEMU starts", async () => {
    const refused = await strata("vm", "run", `${host}/app/web:latest`, "-d");
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /is refused by the policies of http:\/\/.*: policy "pinned" rule noMovableTags/,
    );
    // Nothing was fetched into the disk cache.
    const cached = await readdir(join(dir, "local")).catch(() => [] as string[]);
    assert.deepEqual(
      cached.filter((n) => n.includes("disk")),
      [],
    );
  });
});

describe("the admission webhook with the policy engine", () => {
  it("refuses non-gallery images in the namespace the policy scopes, allows elsewhere", async () => {
    const prod = await admit("/validate", review("prod", "docker.io/library/nginx:1.27"));
    assert.equal(prod.allowed, false);
    assert.match(
      String((prod.status as Json).message),
      /nginx:1\.27.*policy "prod-gallery-only" rule galleryOnly: .*not a gallery version/,
    );
    const own = await admit("/validate", review("prod", `${host}/app/web:1.0.0`));
    assert.equal(own.allowed, false);
    const dev = await admit("/validate", review("dev", "docker.io/library/nginx:1.27"));
    assert.equal(dev.allowed, true);
  });

  it("pins tags of this server to their digests and refuses tags of other registries", async () => {
    const pinned = await admit("/mutate", review("dev", `${host}/app/web:1.0.0`));
    assert.equal(pinned.allowed, true);
    const patch = JSON.parse(Buffer.from(String(pinned.patch), "base64").toString()) as { value: string }[];
    assert.equal(patch[0]?.value, `${host}/app/web@${digest}`);
    const foreign = await admit("/mutate", review("dev", "docker.io/library/nginx:1.27"));
    assert.equal(foreign.allowed, false);
    assert.match(String((foreign.status as Json).message), /not this server/);
  });
});
