// `npm run bench:admission`: how long the validating admission webhook takes to answer an
// AdmissionReview for a Pod of five containers, each image a gallery version of this server,
// under an enforce policy for the namespace (gallery versions only, not revoked, SBOM present)
// — over HTTPS on loopback with a kept-alive connection, as the Kubernetes API server calls it.
// Caches are warmed first; then 1,000 sequential reviews are timed one by one. Target (issue
// "Policy where images are consumed"): p99 ≤ 20 ms. Beside it: the same number of plain HTTPS
// GETs of /healthz on the same listener, the floor any answer pays here.
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authYaml, galleryApi, pushImage } from "../test/helpers/gallery.ts";
import { startInProcess } from "../test/helpers/in-process.ts";
import { freePort } from "../test/helpers/ports.ts";
import { createTestCa } from "../test/helpers/test-ca.ts";

const REVIEWS = 1000;
const WARM = 50;
const CONTAINERS = 5;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "strata-bench-admission-"));
  const testCa = await createTestCa(dir);
  const cert = await testCa.issue("webhook", "server");
  const ca = await readFile(testCa.cert);
  const yaml = await authYaml(
    ["alice"],
    [
      "admission:",
      `  addr: 127.0.0.1:${await freePort()}`,
      `  certificate: ${cert.cert}`,
      `  key: ${cert.key}`,
      "policies:",
      "  - name: production",
      "    mode: enforce",
      '    scope: { namespaces: ["prod"] }',
      "    points: [admission]",
      "    rules:",
      "      galleryOnly: true",
      "      lifecycle: { deny: [revoked, deleted] }",
      "",
    ].join("\n"),
  );
  const s = await startInProcess({ listen: true, yaml });
  try {
    const api = galleryApi(s.server.app);
    const host = new URL(s.url).host;
    await api("POST", "/galleries", { name: "prod" }, "alice");
    const images: string[] = [];
    for (let i = 0; i < CONTAINERS; i++) {
      const name = `svc${i}`;
      await api("POST", "/galleries/prod/images", { name, kind: "container" }, "alice");
      const digest = await pushImage(s.server.app, `builds/${name}`, "ci", `seed ${i}`, { user: "alice" });
      const published = await api(
        "POST",
        `/galleries/prod/images/${name}/versions`,
        { version: "1.0.0", from: `builds/${name}@${digest}` },
        "alice",
      );
      if (published.status !== 201) throw new Error(`publish ${name}: ${JSON.stringify(published.body)}`);
      images.push(`${host}/prod/${name}:1.0.0`);
    }
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const base = s.server.admission?.url;
    if (base === undefined) throw new Error("The admission listener did not start");
    const call = (method: string, path: string, body?: string): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = request(
          new URL(path, base),
          {
            method,
            agent,
            headers:
              body === undefined
                ? {}
                : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
            );
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const review = (): string =>
      JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: {
          uid: randomUUID(),
          kind: { group: "", version: "v1", kind: "Pod" },
          resource: { group: "", version: "v1", resource: "pods" },
          name: "web",
          namespace: "prod",
          operation: "CREATE",
          userInfo: { username: "deployer" },
          object: {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "web", namespace: "prod" },
            spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
          },
          oldObject: null,
          dryRun: false,
        },
      });
    const time = async (n: number, fn: () => Promise<void>): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        await fn();
        out.push(performance.now() - started);
      }
      return out.sort((a, b) => a - b);
    };
    const validate = async (): Promise<void> => {
      const answer = await call("POST", "/validate", review());
      const response = (JSON.parse(answer.text) as { response?: { allowed?: boolean; status?: unknown } })
        .response;
      if (answer.status !== 200 || response?.allowed !== true)
        throw new Error(`The review was not allowed: ${answer.status} ${answer.text.slice(0, 400)}`);
    };
    await time(WARM, validate);
    const reviews = await time(REVIEWS, validate);
    const floor = await time(REVIEWS, async () => {
      const answer = await call("GET", "/healthz");
      if (answer.status !== 200) throw new Error(`/healthz answered ${answer.status}`);
    });
    const p99 = percentile(reviews, 99);
    console.log(
      `AdmissionReview, a Pod of ${CONTAINERS} gallery images, enforce policy, warm caches, ${REVIEWS} sequential reviews over HTTPS: p50 ${percentile(reviews, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target ≤ 20 ms) ${p99 <= 20 ? "PASS" : "FAIL"}`,
    );
    console.log(
      `Floor: GET /healthz on the same listener: p50 ${percentile(floor, 50).toFixed(2)} ms, p99 ${percentile(floor, 99).toFixed(2)} ms`,
    );
    agent.destroy();
  } finally {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
