// Policies at the registry pull path, through a real server on a socket: an enforce policy refuses
// an unsigned image with the reason and serves it once signed by the named key (the cached denial
// dropped when the signature referrer is pushed, without a restart); a warn policy serves with
// `Warning: 299`; an audit policy serves and records the decision; a version revoked turns an
// allowed (cached) pull into a refusal; facts that cannot be read refuse under enforce; referrers
// and blobs are not judged; decisions are counted in /metrics and listed by the API.
import assert from "node:assert/strict";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../../src/oci/index.ts";
import { createRegistryEndpoint, RegistryClient } from "../../src/remote/index.ts";
import { generateSigningKey, publicKeyPem, signImage } from "../../src/sign/index.ts";
import { galleryApi } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { imageManifest } from "../helpers/manifests.ts";

let work: string;
let s: InProcess;
let api: ReturnType<typeof galleryApi>;
let client: RegistryClient;
const release = generateSigningKey();
const stranger = generateSigningKey();

/** Pushes an image with its own config (created, labels) and layer; returns its digest. */
async function push(repository: string, tag: string, seed: string): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: new Date().toISOString(),
      config: { Labels: { seed } },
      rootfs: { type: "layers", diff_ids: [] },
    }),
  );
  const layer = Buffer.from(`layer ${seed}`);
  for (const blob of [config, layer]) {
    const res = await s.server.app.inject({
      method: "POST",
      url: `/v2/${repository}/blobs/uploads/?digest=${digestOf(blob)}`,
      headers: { "content-type": "application/octet-stream" },
      payload: blob,
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  const manifest = imageManifest(config, [layer]);
  const res = await s.server.app.inject({
    method: "PUT",
    url: `/v2/${repository}/manifests/${tag}`,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    payload: manifest,
  });
  assert.equal(res.statusCode, 201, res.body);
  return digestOf(manifest);
}

async function pull(repository: string, reference: string, method: "GET" | "HEAD" = "GET") {
  const res = await fetch(`${s.url}/v2/${repository}/manifests/${reference}`, {
    method,
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  const body = await res.text();
  return { status: res.status, warning: res.headers.get("warning"), body };
}

/**
 * Signs `digest` in `repository` over HTTP as a build pipeline does that knows what it pushed:
 * without reading the manifest back, which an enforce pull policy refuses to everyone.
 */
async function sign(repository: string, digest: string, key: typeof release): Promise<void> {
  const endpoint = createRegistryEndpoint(client, repository);
  const manifest = await s.server.meta.manifests.get(repository, digest as never);
  assert.ok(manifest);
  await signImage(
    {
      ...endpoint,
      resolve: async () => ({ mediaType: manifest.mediaType, digest, size: manifest.size }),
    },
    digest,
    key,
  );
}

const message = (body: string): string =>
  (JSON.parse(body) as { errors: { message: string }[] }).errors[0]?.message ?? "";

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-policy-pull-"));
  await writeFile(join(work, "release.pub"), publicKeyPem(release.publicKey));
  const yaml = [
    "policy:",
    "  keys:",
    `    release: ${join(work, "release.pub")}`,
    "policies:",
    "  - name: signed",
    "    mode: enforce",
    '    scope: { repositories: ["signed/**", "broken/**"] }',
    "    rules: { signedBy: [release] }",
    "  - name: sbom-wanted",
    "    mode: warn",
    '    scope: { repositories: ["warned/**"] }',
    "    rules: { sbom: true }",
    "  - name: sbom-audited",
    "    mode: audit",
    '    scope: { repositories: ["audited/**"] }',
    "    rules: { sbom: true }",
    "  - name: lifecycle",
    "    mode: enforce",
    '    scope: { galleries: ["prod"] }',
    "    points: [pull]",
    "    rules: { lifecycle: true }",
  ].join("\n");
  s = await startInProcess({ listen: true, yaml });
  api = galleryApi(s.server.app);
  client = new RegistryClient({ registry: new URL(s.url).host, insecure: true });
});

after(async () => {
  await s.stop();
  await rm(work, { recursive: true, force: true });
});

describe("policies at the pull path", () => {
  it("refuses an unsigned image under enforce, then serves it once signed by the named key", async () => {
    const digest = await push("signed/app", "1.0.0", "signed-app");
    const denied = await pull("signed/app", "1.0.0");
    assert.equal(denied.status, 403);
    assert.match(
      message(denied.body),
      /^Pull of signed\/app:1\.0\.0 refused by policy: policy "signed" rule signedBy: .*release/,
    );
    assert.equal((await pull("signed/app", digest, "HEAD")).status, 403);
    // A signature by a key the policy does not name changes nothing.
    await sign("signed/app", digest, stranger);
    assert.equal((await pull("signed/app", "1.0.0")).status, 403);
    // Signed by the release key: the cached denial is dropped when the referrer arrives.
    await sign("signed/app", digest, release);
    const allowed = await pull("signed/app", "1.0.0");
    assert.equal(allowed.status, 200, allowed.body);
    assert.equal(allowed.warning, null);
    assert.equal(digestOf(Buffer.from(allowed.body)), digest);
  });

  it("does not judge referrers, fallback tags or blobs", async () => {
    const digest = await push("signed/other", "1.0.0", "signed-other");
    assert.equal((await pull("signed/other", "1.0.0")).status, 403);
    const layer = Buffer.from("layer signed-other");
    const blob = await fetch(`${s.url}/v2/signed/other/blobs/${digestOf(layer)}`);
    assert.equal(blob.status, 200);
    await sign("signed/other", digest, stranger);
    const referrers = (await (await fetch(`${s.url}/v2/signed/other/referrers/${digest}`)).json()) as {
      manifests: { digest: string }[];
    };
    const signature = referrers.manifests[0]?.digest ?? "";
    assert.equal((await pull("signed/other", signature)).status, 200);
  });

  it("serves under a warn policy with a Warning: 299 header naming policy and rule", async () => {
    await push("warned/app", "1.0.0", "warned-app");
    const warned = await pull("warned/app", "1.0.0");
    assert.equal(warned.status, 200);
    assert.match(warned.warning ?? "", /^299 - "policy 'sbom-wanted' rule sbom: .+"$/);
    assert.match((await pull("warned/app", "1.0.0", "HEAD")).warning ?? "", /sbom-wanted/);
  });

  it("serves under an audit policy and records the decision", async () => {
    const digest = await push("audited/app", "2.0.0", "audited-app");
    const served = await pull("audited/app", "2.0.0");
    assert.equal(served.status, 200);
    assert.equal(served.warning, null);
    const listed = await api("GET", "/policy/decisions?policy=sbom-audited");
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const entry = listed.body.find((d: { digest: string }) => d.digest === digest);
    assert.ok(entry, JSON.stringify(listed.body));
    assert.equal(entry.outcome, "allow");
    assert.equal(entry.point, "pull");
    assert.equal(entry.reference, "audited/app:2.0.0");
    assert.equal(entry.failures[0].policy, "sbom-audited");
    assert.equal(entry.failures[0].mode, "audit");
    assert.equal(entry.failures[0].rule, "sbom");
  });

  it("refuses a pull that was allowed once its version is revoked", async () => {
    assert.equal((await api("POST", "/galleries", { name: "prod", mode: "off" })).status, 201);
    assert.equal(
      (await api("POST", "/galleries/prod/images", { name: "web", kind: "container" })).status,
      201,
    );
    const digest = await push("builds/web", "b1", "prod-web");
    const published = await api("POST", "/galleries/prod/images/web/versions", {
      version: "1.0.0",
      from: `builds/web@${digest}`,
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal((await pull("prod/web", "1.0.0")).status, 200);
    assert.equal((await pull("prod/web", digest)).status, 200);
    const revoked = await api("POST", "/galleries/prod/images/web/versions/1.0.0/revoke", {
      reason: "CVE-1",
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const denied = await pull("prod/web", "1.0.0");
    assert.equal(denied.status, 403);
    assert.match(message(denied.body), /policy "lifecycle" rule lifecycle: prod\/web:1\.0\.0 is revoked/);
    assert.equal((await pull("prod/web", digest)).status, 403);
  });

  it("refuses under enforce when the facts cannot be read", async () => {
    const digest = await push("broken/app", "1.0.0", "broken-app");
    await sign("broken/app", digest, release);
    // The image's config is gone from the pool: nothing can be told about the image.
    const manifest = JSON.parse(
      (await s.server.app.inject({ url: `/v2/broken/app/manifests/${digest}` })).body,
    ) as { config: { digest: string } };
    const hex = manifest.config.digest.slice("sha256:".length);
    await unlink(join(s.dataDir, "data", "blobs", "sha256", hex.slice(0, 2), hex));
    const denied = await pull("broken/app", "1.0.0");
    assert.equal(denied.status, 403);
    assert.match(message(denied.body), /policy "signed" rule signedBy: .*unavailable/);
  });

  it("counts decisions in /metrics", async () => {
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(
      metrics,
      /strata_policy_decisions_total\{mode="enforce",outcome="deny",point="pull",policy="signed"\} \d+/,
    );
    assert.match(
      metrics,
      /strata_policy_decisions_total\{mode="warn",outcome="warn",point="pull",policy="sbom-wanted"\} \d+/,
    );
  });
});
