// The Kubernetes admission webhooks over HTTPS, with AdmissionReviews wrapped around objects
// the real kubectl makes (`kubectl create … --dry-run=client`, and `kubectl label --local` for
// the kinds kubectl cannot create offline). The decision denies a repository and warns for
// `latest`; the resolver asks the server's own registry API what a tag points to.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { AdmissionDecide, ResolveDigest } from "../../src/admission/index.ts";
import { parseReference } from "../../src/oci/index.ts";
import { runOk } from "../helpers/exec.ts";
import { pushImage } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { freePort } from "../helpers/ports.ts";
import { createTestCa } from "../helpers/test-ca.ts";

type Json = Record<string, unknown>;
interface Answer {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  patchType?: string;
  patch?: string;
}

let dir = "";
let ca: Buffer;
let strata: InProcess;
let webhook = "";
let host = "";
const digests: Record<string, string> = {};

const decide: AdmissionDecide = async (images, context, signal) => {
  if (context.namespace === "slow") {
    // A decision that never comes: only the admission timeout ends it.
    return new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  }
  return {
    results: images.map(({ reference }) => {
      const ref = parseReference(reference);
      if (ref.repository.startsWith("untrusted/"))
        return {
          reference,
          outcome: "deny",
          reasons: [`policy "shop" rule "repositories": "${ref.repository}" is not a gallery repository`],
        };
      if (ref.tag === "latest")
        return { reference, outcome: "warn", reasons: ['policy "pinned" rule "no-latest": "latest" moves'] };
      return { reference, outcome: "allow", reasons: [] };
    }),
  };
};

/** Resolves references to this server's registry through its API (HEAD of the manifest). */
const resolve: ResolveDigest = async (reference, signal) => {
  const ref = parseReference(reference);
  if (ref.registry !== host) throw new Error(`registry "${ref.registry ?? "docker.io"}" is not this server`);
  const res = await fetch(`${strata.url}/v2/${ref.repository}/manifests/${ref.tag ?? "latest"}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    signal,
  });
  const digest = res.headers.get("docker-content-digest");
  if (res.status !== 200 || digest === null) throw new Error(`manifest unknown (HTTP ${res.status})`);
  return digest;
};

async function kubectl(...args: string[]): Promise<Json> {
  const { stdout } = await runOk("kubectl", [...args, "-o", "json"], {
    env: { KUBECONFIG: join(dir, "kubeconfig") },
    timeoutMs: 60_000,
  });
  return JSON.parse(stdout) as Json;
}

/** An object kubectl reads from YAML without a cluster (`label --local`). */
async function fromYaml(name: string, yaml: string): Promise<Json> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, yaml);
  return kubectl("label", "--local", "-f", file, "app.kubernetes.io/part-of=shop");
}

function review(object: Json, options: { operation?: string; namespace?: string } = {}): Json {
  const [group, version] = String(object.apiVersion).includes("/")
    ? String(object.apiVersion).split("/")
    : ["", String(object.apiVersion)];
  const metadata = object.metadata as Json;
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: randomUUID(),
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource: `${String(object.kind).toLowerCase()}s` },
      name: metadata.name,
      namespace: options.namespace ?? "shop",
      operation: options.operation ?? "CREATE",
      userInfo: { username: "kubernetes-admin", groups: ["system:masters"] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}

function post(path: string, body: string): Promise<{ status: number; json: Json }> {
  const url = new URL(path, webhook);
  return new Promise((resolveResponse, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        ca,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolveResponse({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString()) as Json,
            });
          } catch (error) {
            reject(error as Error);
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function answer(path: string, body: Json): Promise<Answer> {
  const res = await post(path, JSON.stringify(body));
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const response = res.json.response as Answer;
  assert.equal(response.uid, (body.request as Json).uid, "the uid is echoed");
  return response;
}

/** Applies a JSON Patch of `replace` operations, as the API server would. */
function applyPatch(object: Json, patch: string): Json {
  const copy = structuredClone(object);
  for (const op of JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as {
    op: string;
    path: string;
    value: unknown;
  }[]) {
    assert.equal(op.op, "replace");
    const keys = op.path.slice(1).split("/");
    const last = keys.pop() ?? "";
    let at: unknown = copy;
    for (const key of keys) at = (at as Json)[key];
    assert.equal(typeof (at as Json)[last], "string", `${op.path} exists`);
    (at as Json)[last] = op.value;
  }
  return copy;
}

/** Every image of a pod spec, in order: init, regular, ephemeral. */
function images(spec: Json): string[] {
  return ["initContainers", "containers", "ephemeralContainers"].flatMap((list) =>
    ((spec[list] as Json[] | undefined) ?? []).map((c) => String(c.image)),
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-admission-"));
  await writeFile(
    join(dir, "kubeconfig"),
    "apiVersion: v1\nkind: Config\nclusters: [{name: none, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
      "contexts: [{name: none, context: {cluster: none, user: none}}]\ncurrent-context: none\nusers: [{name: none, user: {token: none}}]\n",
  );
  const testCa = await createTestCa(dir);
  const cert = await testCa.issue("webhook", "server");
  ca = await readFile(testCa.cert);
  const port = await freePort();
  strata = await startInProcess({
    listen: true,
    yaml:
      `admission:\n  addr: 127.0.0.1:${port}\n  certificate: ${cert.cert}\n  key: ${cert.key}\n` +
      "  timeout: 2s\n  bodyMaxBytes: 256KiB\n",
    admission: { decide, resolve },
  });
  webhook = strata.server.admission?.url ?? "";
  assert.equal(webhook, `https://127.0.0.1:${port}`);
  host = new URL(strata.url).host;
  for (const [repository, tag] of [
    ["shop/web", "v1"],
    ["shop/worker", "v2"],
    ["shop/web", "latest"],
    ["untrusted/miner", "1"],
  ] as const) {
    digests[`${repository}:${tag}`] = await pushImage(
      strata.server.app,
      repository,
      tag,
      `${repository}:${tag}`,
    );
  }
});

after(async () => {
  await strata?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("admission webhooks with objects made by kubectl", () => {
  test("a Deployment of allowed images is allowed; its tags are pinned to the digests pushed", async () => {
    const deployment = await kubectl(
      "create",
      "deployment",
      "web",
      `--image=${host}/shop/web:v1`,
      "--dry-run=client",
    );
    const body = review(deployment);
    assert.deepEqual(await answer("/validate", body), { uid: (body.request as Json).uid, allowed: true });
    const mutated = await answer("/mutate", review(deployment));
    assert.equal(mutated.allowed, true);
    assert.equal(mutated.patchType, "JSONPatch");
    const patched = applyPatch(deployment, mutated.patch ?? "");
    const spec = ((patched.spec as Json).template as Json).spec as Json;
    assert.deepEqual(images(spec), [`${host}/shop/web@${digests["shop/web:v1"]}`]);
  });

  test("a Pod with an untrusted init container is refused, naming it and the policy; latest warns", async () => {
    const pod = await fromYaml(
      "pod",
      `apiVersion: v1\nkind: Pod\nmetadata: {name: shop}\nspec:\n  containers:\n  - {name: web, image: ${host}/shop/web:latest}\n`,
    );
    const spec = pod.spec as Json;
    spec.initContainers = [{ name: "setup", image: `${host}/untrusted/miner:1` }];
    spec.ephemeralContainers = [{ name: "debug", image: `${host}/shop/worker:v2` }];
    const res = await answer("/validate", review(pod));
    assert.equal(res.allowed, false);
    assert.equal(
      res.status?.message,
      `image "${host}/untrusted/miner:1" (init container "setup") is denied: ` +
        `policy "shop" rule "repositories": "untrusted/miner" is not a gallery repository`,
    );
    assert.deepEqual(res.warnings, [
      `image "${host}/shop/web:latest" (container "web"): policy "pinned" rule "no-latest": "latest" moves`,
    ]);

    const mutated = await answer("/mutate", review(pod));
    assert.deepEqual(images(applyPatch(pod, mutated.patch ?? "").spec as Json), [
      `${host}/untrusted/miner@${digests["untrusted/miner:1"]}`,
      `${host}/shop/web@${digests["shop/web:latest"]}`,
      `${host}/shop/worker@${digests["shop/worker:v2"]}`,
    ]);
  });

  test("Jobs, CronJobs, StatefulSets, DaemonSets and ReplicaSets are checked through their pod templates", async () => {
    const bad = `${host}/untrusted/miner:1`;
    const template = (kind: string): string =>
      `apiVersion: apps/v1\nkind: ${kind}\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {app: x}}\n` +
      (kind === "StatefulSet" ? "  serviceName: x\n" : "") +
      `  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers:\n` +
      `      - {name: ok, image: ${host}/shop/worker:v2}\n      - {name: bad, image: ${bad}}\n`;
    const objects = [
      await kubectl("create", "job", "x", `--image=${bad}`, "--dry-run=client"),
      await kubectl("create", "cronjob", "x", `--image=${bad}`, "--schedule=*/5 * * * *", "--dry-run=client"),
      await fromYaml("statefulset", template("StatefulSet")),
      await fromYaml("daemonset", template("DaemonSet")),
      await fromYaml("replicaset", template("ReplicaSet")),
    ];
    assert.deepEqual(
      objects.map((o) => o.kind),
      ["Job", "CronJob", "StatefulSet", "DaemonSet", "ReplicaSet"],
    );
    for (const object of objects) {
      const res = await answer("/validate", review(object));
      assert.equal(res.allowed, false, String(object.kind));
      assert.match(
        res.status?.message ?? "",
        new RegExp(`^image "${bad.replace(/[.]/g, "\\.")}" \\(container "(x|bad)"\\) is denied: `),
      );
      const mutated = await answer("/mutate", review(object, { operation: "UPDATE" }));
      const patched = JSON.stringify(applyPatch(object, mutated.patch ?? ""));
      assert.ok(
        patched.includes(`${host}/untrusted/miner@${digests["untrusted/miner:1"]}`),
        String(object.kind),
      );
      assert.ok(!patched.includes(`"${bad}"`), `${String(object.kind)}: no tag left`);
    }
  });

  test("a tag the registry does not have refuses the request (fail closed)", async () => {
    const job = await kubectl("create", "job", "gone", `--image=${host}/shop/web:v9`, "--dry-run=client");
    const res = await answer("/mutate", review(job));
    assert.equal(res.allowed, false);
    assert.equal(
      res.status?.message,
      `image "${host}/shop/web:v9" (container "gone") is denied: cannot resolve it to a digest: manifest unknown (HTTP 404)`,
    );
  });

  test("a decision slower than admission.timeout is denied", async () => {
    const deployment = await kubectl(
      "create",
      "deployment",
      "slow",
      `--image=${host}/shop/web:v1`,
      "--dry-run=client",
    );
    const res = await answer("/validate", review(deployment, { namespace: "slow" }));
    assert.equal(res.allowed, false);
    assert.equal(res.status?.message, "Denied (fail closed): the policy decision took longer than 2s");
  });

  test("a DELETE and a ConfigMap are allowed without looking", async () => {
    const configMap = await kubectl(
      "create",
      "configmap",
      "settings",
      "--from-literal=a=b",
      "--dry-run=client",
    );
    assert.equal((await answer("/validate", review(configMap))).allowed, true);
    const deployment = await kubectl(
      "create",
      "deployment",
      "web",
      `--image=${host}/untrusted/miner:1`,
      "--dry-run=client",
    );
    const del = review(deployment, { operation: "DELETE" });
    (del.request as Json).object = null;
    (del.request as Json).oldObject = deployment;
    assert.deepEqual(await answer("/validate", del), { uid: (del.request as Json).uid, allowed: true });
  });

  test("hand-broken reviews answer 400 with a clear message", async () => {
    const deployment = await kubectl(
      "create",
      "deployment",
      "web",
      `--image=${host}/shop/web:v1`,
      "--dry-run=client",
    );
    const whole = JSON.stringify(review(deployment));
    const noTemplate = structuredClone(deployment);
    delete (noTemplate.spec as Json).template;
    const cases: [string, RegExp][] = [
      [whole.slice(0, whole.length / 2), /^Invalid AdmissionReview: not JSON: /],
      [
        whole.replace('"admission.k8s.io/v1"', '"admission.k8s.io/v1beta1"'),
        /apiVersion must be "admission\.k8s\.io\/v1"/,
      ],
      [whole.replace(/"uid":"[^"]+",/, ""), /request\.uid must be a non-empty string, got missing$/],
      [
        JSON.stringify(review(noTemplate)),
        /request\.object\.spec\.template must be an object in a Deployment \(its pod spec is at spec\.template\.spec\), got nothing$/,
      ],
      [
        JSON.stringify({ ...review(deployment), padding: "x".repeat(300 * 1024) }),
        /over the limit of 262144 bytes/,
      ],
    ];
    for (const [body, want] of cases) {
      for (const path of ["/validate", "/mutate"]) {
        const res = await post(path, body);
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.json)}`);
        assert.match(String(res.json.error), want);
      }
    }
  });
});

describe("admission listener start-up", () => {
  test("a certificate that cannot be read stops the start, naming the key", async () => {
    const missing = join(dir, "absent.crt");
    await assert.rejects(
      startInProcess({
        yaml: `admission:\n  addr: 127.0.0.1:${await freePort()}\n  certificate: ${missing}\n  key: ${missing}\n`,
      }),
      { message: `Cannot read admission.certificate "${missing}": file not found` },
    );
  });
});
