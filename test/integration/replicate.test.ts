// Replication between real servers on loopback: a source `strata serve` with two sites — another
// `strata serve` (kind strata, whose gallery gets the versions and their lifecycle) and Debian's
// docker-registry (kind registry, no referrers API) — each behind a proxy that counts the bytes
// reaching it and can slow them or be down. Only what a site lacks moves; a source killed with
// SIGKILL mid-copy finishes after its restart without sending again the blobs that arrived; a
// site that was down is caught up by retries; the gallery's signature verifies at both sites;
// deprecation and revocation reach the Strata site's pulls; a site dropped from the targets
// loses its copy; unknown sites are refused with nothing changed.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { RegistryClient } from "../../src/remote/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { makeChunkedDisk, makeDeltaDisk, rawChunk } from "../helpers/chunked-disk.ts";
import { buildImage, randomImage, sha256, type Layer, type TestImage } from "../helpers/images.ts";
import { blobBytesIn, startSiteProxy, uploadDigest, type SiteProxy } from "../helpers/site-proxy.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

const run = promisify(execFile);

let work: string;
let source: RunningStrata;
let site: RunningStrata;
let registry: RunningDistribution;
let toSite: SiteProxy;
let toRegistry: SiteProxy;

interface Replica {
  site: string;
  region?: string;
  state: string;
  bytesDone: number;
  bytesTotal: number;
  attempts: number;
  error?: string;
}

async function api(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as any) }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function push(host: string, repository: string, image: TestImage, tag?: string): Promise<void> {
  const client = new RegistryClient({ registry: host, insecure: true });
  for (const [digest, bytes] of image.blobs)
    await client.putBlob(repository, { digest, size: bytes.length, bytes });
  await client.putManifest(repository, tag ?? image.manifestDigest, image.manifest, image.mediaType);
}

const V = (version: string) => `/galleries/apps/images/web/versions/${version}`;

async function replicas(version: string, image = "web"): Promise<Replica[]> {
  const answer = await api(
    source.url,
    "GET",
    `/galleries/apps/images/${image}/versions/${version}/replication`,
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as Replica[];
}

/** Polls until `check` returns a value (bounded: fails after 60 s with the last state). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `Timed out waiting for ${what} (${String(last)}); source log: ${source.output().slice(-3000)}`,
  );
}

const stateOf = async (version: string, name: string, image = "web") =>
  (await replicas(version, image)).find((r) => r.site === name);

const reached = (version: string, name: string, state: string, image = "web") =>
  until(`${image}:${version} ${state} at ${name}`, async () => {
    const found = await stateOf(version, name, image);
    return found?.state === state ? found : undefined;
  });

async function publish(version: string, image: TestImage, image_ = "web"): Promise<void> {
  await push(source.host, `apps/${image_}`, image, `build-${version}`);
  const answer = await api(source.url, "POST", `/galleries/apps/images/${image_}/versions`, {
    version,
    from: `apps/${image_}:build-${version}`,
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
}

const strata = (args: string[]) =>
  runStrata(args, {
    PATH: process.env.PATH,
    HOME: join(work, "home"),
    STRATA_CONFIG_DIR: join(work, "config"),
    STRATA_DATA_DIR: join(work, "data"),
  });

let base: Layer[];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-replicate-"));
  await run("openssl", [
    "ecparam",
    "-name",
    "prime256v1",
    "-genkey",
    "-noout",
    "-out",
    join(work, "apps.key"),
  ]);
  await run("openssl", ["ec", "-in", join(work, "apps.key"), "-pubout", "-out", join(work, "apps.pub")]);
  [site, registry] = await Promise.all([startStrata(), startDistribution()]);
  [toSite, toRegistry] = await Promise.all([startSiteProxy(site.url), startSiteProxy(registry.url)]);
  source = await startStrata({
    config: [
      "gallery:",
      "  signing:",
      `    apps: { key: ${JSON.stringify(join(work, "apps.key"))} }`,
      "sites:",
      `  eu: { url: "${toSite.url}", kind: strata, region: eu-west }`,
      `  dr: { url: "${toRegistry.url}", kind: registry, repositoryPrefix: mirror }`,
      "replication:",
      "  interval: 300ms",
      "  backoff: 200ms",
      "  maxBackoff: 1s",
      "  concurrency: 2",
      "",
    ].join("\n"),
  });
  assert.equal(
    (await api(source.url, "POST", "/galleries", { name: "apps", description: "Apps" })).status,
    201,
  );
  const defined = await api(source.url, "POST", "/galleries/apps/images", {
    name: "web",
    kind: "container",
    os: "linux",
    replicateTo: ["dr"],
  });
  assert.equal(defined.status, 201, JSON.stringify(defined.body));
  base = [...(await randomImage({ seed: 7001, layers: 2, size: 256 * 1024 })).layers];
});

after(async () => {
  await source?.stop();
  await Promise.all([site?.stop(), registry?.stop(), toSite?.close(), toRegistry?.close()]);
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("replication", { timeout: 300_000 }, () => {
  let v1: TestImage;

  it("sends only what the site lacks: a base image already there stays", async () => {
    // The base image is at the registry site already, in the repository the version lands in.
    const baseImage = buildImage({ layers: base });
    await push(registry.host, "mirror/apps/web", baseImage, "base");
    const top = (await randomImage({ seed: 7002, layers: 1, size: 128 * 1024 })).layers;
    v1 = buildImage({ layers: [...base, ...top] });
    const before = toRegistry.exchanges.length;
    await publish("1.0.0", v1);
    const done = await reached("1.0.0", "dr", "completed");
    const exchanges = toRegistry.exchanges.slice(before);
    // The top layer and the config moved (plus the signature's small blobs); the base did not.
    const uploaded = exchanges.map(uploadDigest).filter((d): d is string => d !== undefined);
    for (const layer of base)
      assert.ok(!uploaded.includes(layer.digest), `base layer ${layer.digest} was sent`);
    assert.ok(uploaded.includes(top[0]?.digest ?? ""), "the top layer was sent");
    const received = blobBytesIn(exchanges);
    assert.equal(received, done.bytesTotal, "bytes received are the bytes the site lacked");
    const missing = (top[0]?.blob.length ?? 0) + v1.config.length;
    assert.ok(
      received >= missing && received < missing + 16 * 1024,
      `received ${received}, missing ${missing}`,
    );
    const whole = [...v1.blobs.values()].reduce((sum, b) => sum + b.length, 0);
    assert.ok(received < whole / 2, `received ${received} of a ${whole}-byte image`);
    // At the registry site the version is tagged under the prefix, byte for byte.
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    const there = await client.getManifest("mirror/apps/web", "1.0.0", [v1.mediaType]);
    assert.equal(there.digest, v1.manifestDigest);
  });

  it("keeps the gallery's signature verifiable at the registry site", async () => {
    const verified = await strata([
      "verify",
      "--json",
      "--key",
      join(work, "apps.pub"),
      `${registry.host}/mirror/apps/web:1.0.0`,
    ]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    assert.equal((JSON.parse(verified.stdout) as { verified: boolean }).verified, true);
  });

  it("sends a referrer pushed after the copy completed to the site as well", async () => {
    const note = Buffer.from("reviewed by the release team");
    const empty = Buffer.from("{}");
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/vnd.example.review",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256(empty), size: empty.length },
        layers: [{ mediaType: "text/plain", digest: sha256(note), size: note.length }],
        subject: { mediaType: v1.mediaType, digest: v1.manifestDigest, size: v1.manifest.length },
      }),
    );
    const client = new RegistryClient({ registry: source.host, insecure: true });
    for (const blob of [empty, note])
      await client.putBlob("apps/web", { digest: sha256(blob), size: blob.length, bytes: blob });
    await client.putManifest(
      "apps/web",
      sha256(manifest),
      manifest,
      "application/vnd.oci.image.manifest.v1+json",
    );
    const atSite = new RegistryClient({ registry: registry.host, insecure: true });
    await until("the review at the registry site", async () => {
      const index = await atSite.getManifest("mirror/apps/web", v1.manifestDigest.replace(":", "-"), [
        "application/vnd.oci.image.index.v1+json",
      ]);
      return index.bytes.toString().includes(sha256(manifest)) ? true : undefined;
    });
    await reached("1.0.0", "dr", "completed");
  });

  it("carries cosign's signature tag (sha256-<hex>.sig) beside the referrers", async () => {
    const payload = Buffer.from(
      JSON.stringify({ critical: { image: { "docker-manifest-digest": v1.manifestDigest } } }),
    );
    const config = Buffer.from("{}");
    const signature = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
            digest: sha256(payload),
            size: payload.length,
            annotations: { "dev.cosignproject.cosign/signature": "MEUCIQ==" },
          },
        ],
      }),
    );
    const tag = `${v1.manifestDigest.replace(":", "-")}.sig`;
    const client = new RegistryClient({ registry: source.host, insecure: true });
    for (const blob of [config, payload])
      await client.putBlob("apps/web", { digest: sha256(blob), size: blob.length, bytes: blob });
    await client.putManifest("apps/web", tag, signature, "application/vnd.oci.image.manifest.v1+json");
    const atSite = new RegistryClient({ registry: registry.host, insecure: true });
    const copied = await until("the cosign tag at the registry site", () =>
      atSite.getManifest("mirror/apps/web", tag, ["application/vnd.oci.image.manifest.v1+json"]),
    );
    assert.equal(copied.digest, sha256(signature));
  });

  it("publishes at a Strata site with the gallery and definition made there, signature included", async () => {
    const set = await api(source.url, "PUT", `${V("1.0.0")}/replication`, { sites: ["dr", "eu"] });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const eu = await reached("1.0.0", "eu", "completed");
    assert.equal(eu.region, "eu-west");
    const there = await api(site.url, "GET", V("1.0.0"));
    assert.equal(there.status, 200, JSON.stringify(there.body));
    assert.equal(there.body.digest, v1.manifestDigest);
    assert.equal(there.body.state, "published");
    const definition = await api(site.url, "GET", "/galleries/apps/images/web");
    assert.equal(definition.body.os, "linux");
    assert.equal(definition.body.replicateTo, undefined);
    const verified = await strata([
      "verify",
      "--json",
      "--key",
      join(work, "apps.pub"),
      `${site.host}/apps/web@${v1.manifestDigest}`,
    ]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    // The change is audited at the source.
    const audit = await api(source.url, "GET", "/galleries/apps/audit?action=version.replication.set");
    assert.equal(audit.status, 200);
    assert.deepEqual(audit.body[0].after, { sites: ["dr", "eu"] });
  });

  it("shows the copies in the version, the list and strata replicate status", async () => {
    const detail = await api(source.url, "GET", V("1.0.0"));
    assert.deepEqual(
      detail.body.replication.map((r: Replica) => [r.site, r.state]),
      [
        ["dr", "completed"],
        ["eu", "completed"],
      ],
    );
    const listed = await api(source.url, "GET", "/replication?state=completed&gallery=apps");
    assert.equal(listed.status, 200);
    assert.equal(listed.body.length, 2);
    const status = await strata(["replicate", "status", "apps/web@1.0.0", "--server", source.url]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /VERSION\s+SITE\s+STATE\s+PROGRESS/);
    assert.match(status.stdout, /apps\/web:1\.0\.0\s+eu \(eu-west\)\s+completed/);
    const shown = await strata(["version", "show", "apps/web@1.0.0", "--server", source.url]);
    assert.match(shown.stdout, /replication:\s+dr completed .*; eu completed/);
  });

  it("mirrors deprecation and revocation to the Strata site, whose pulls warn and then refuse", async () => {
    const deprecated = await api(source.url, "POST", `${V("1.0.0")}/deprecate`, { reason: "use 2.x" });
    assert.equal(deprecated.status, 200, JSON.stringify(deprecated.body));
    await until("deprecation at the site", async () => {
      const there = await api(site.url, "GET", V("1.0.0"));
      return there.body.state === "deprecated" ? true : undefined;
    });
    const warned = await fetch(`${site.url}/v2/apps/web/manifests/1.0.0`, {
      headers: { accept: v1.mediaType },
    });
    assert.equal(warned.status, 200);
    assert.match(warned.headers.get("warning") ?? "", /deprecated/i);
    await warned.arrayBuffer();
    const revoked = await api(source.url, "POST", `${V("1.0.0")}/revoke`, { reason: "CVE-2026-0001" });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await until("revocation at the site", async () => {
      const there = await api(site.url, "GET", V("1.0.0"));
      return there.body.state === "revoked" ? true : undefined;
    });
    const refused = await fetch(`${site.url}/v2/apps/web/manifests/1.0.0`, {
      headers: { accept: v1.mediaType },
    });
    const text = await refused.text();
    assert.ok(refused.status >= 400, `a pull of a revoked version answered ${refused.status}`);
    assert.match(text, /CVE-2026-0001|revoked/);
  });

  it("refuses unknown sites with 400 naming them and the configured ones, changing nothing", async () => {
    const beforeRows = await replicas("1.0.0");
    const refused = await api(source.url, "PUT", `${V("1.0.0")}/replication`, { sites: ["dr", "moon"] });
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors[0].message, /"moon"/);
    assert.match(refused.body.errors[0].message, /configured: "eu", "dr"|configured: "dr", "eu"/);
    assert.deepEqual(await replicas("1.0.0"), beforeRows);
    const defined = await api(source.url, "POST", "/galleries/apps/images", {
      name: "nowhere",
      kind: "container",
      replicateTo: ["moon"],
    });
    assert.equal(defined.status, 400);
    assert.equal((await api(source.url, "GET", "/galleries/apps/images/nowhere")).status, 404);
    const updated = await api(source.url, "PATCH", "/galleries/apps/images/web", { replicateTo: ["moon"] });
    assert.equal(updated.status, 400);
    assert.deepEqual((await api(source.url, "GET", "/galleries/apps/images/web")).body.replicateTo, ["dr"]);
    const cli = await strata([
      "replicate",
      "set",
      "apps/web@1.0.0",
      "--sites",
      "moon",
      "--server",
      source.url,
    ]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /"moon"/);
  });

  it("retries a site that was down until it is back", async () => {
    toRegistry.down = true;
    const v3 = await randomImage({ seed: 7003, layers: 1, size: 64 * 1024 });
    await publish("3.0.0", v3);
    const failed = await reached("3.0.0", "dr", "failed");
    assert.match(failed.error ?? "", /reach|ECONNRESET|socket|fetch failed|other side closed/i);
    assert.ok(failed.attempts >= 1);
    const status = await strata(["replicate", "status", "apps", "--state", "failed", "--server", source.url]);
    assert.match(status.stdout, /apps\/web:3\.0\.0\s+dr\s+failed/);
    toRegistry.down = false;
    const done = await reached("3.0.0", "dr", "completed");
    assert.ok(done.attempts >= 2, `completed after ${done.attempts} attempts`);
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    assert.equal(
      (await client.getManifest("mirror/apps/web", "3.0.0", [v3.mediaType])).digest,
      v3.manifestDigest,
    );
  });

  it("mounts blobs the site holds in another repository instead of sending them", async () => {
    const defined = await api(source.url, "POST", "/galleries/apps/images", {
      name: "api",
      kind: "container",
      replicateTo: ["dr"],
    });
    assert.equal(defined.status, 201, JSON.stringify(defined.body));
    // The same layers as web 1.0.0, which the registry site holds in mirror/apps/web.
    const image = buildImage({ layers: v1.layers, execution: { Cmd: ["/api"] } });
    const from = toRegistry.exchanges.length;
    await publish("1.0.0", image, "api");
    await reached("1.0.0", "dr", "completed", "api");
    const exchanges = toRegistry.exchanges.slice(from);
    for (const layer of v1.layers) {
      const mount = exchanges.find(
        (e) => e.method === "POST" && e.path.includes(`mount=${encodeURIComponent(layer.digest)}`),
      );
      assert.equal(mount?.status, 201, `layer ${layer.digest} was mounted`);
      assert.ok(!exchanges.map(uploadDigest).includes(layer.digest), `layer ${layer.digest} was sent`);
    }
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    assert.equal(
      (await client.getManifest("mirror/apps/api", "1.0.0", [image.mediaType])).digest,
      image.manifestDigest,
    );
  });

  it("copies a chunked VM disk chunk by chunk to both sites", async () => {
    const defined = await api(source.url, "POST", "/galleries/apps/images", {
      name: "disk",
      kind: "vm",
      replicateTo: ["dr", "eu"],
    });
    assert.equal(defined.status, 201, JSON.stringify(defined.body));
    const disk = await makeChunkedDisk([rawChunk("r-1"), rawChunk("r-2"), rawChunk("r-3"), rawChunk("r-1")]);
    const client = new RegistryClient({ registry: source.host, insecure: true });
    for (const blob of disk.blobs)
      await client.putBlob("apps/disk", { digest: blob.digest, size: blob.size, bytes: blob.bytes });
    for (const manifest of disk.manifests)
      await client.putManifest("apps/disk", manifest.digest, manifest.bytes, manifest.mediaType);
    const published = await api(source.url, "POST", "/galleries/apps/images/disk/versions", {
      version: "1.0.0",
      from: `apps/disk@${disk.digest}`,
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    await reached("1.0.0", "dr", "completed", "disk");
    await reached("1.0.0", "eu", "completed", "disk");
    const atRegistry = new RegistryClient({ registry: registry.host, insecure: true });
    assert.equal(
      (await atRegistry.getManifest("mirror/apps/disk", "1.0.0", [disk.artifact.top.mediaType])).digest,
      disk.digest,
    );
    for (const blob of disk.blobs) assert.ok(await atRegistry.hasBlob("mirror/apps/disk", blob.digest));
    const atSite = await api(site.url, "GET", "/galleries/apps/images/disk/versions/1.0.0");
    assert.equal(atSite.body.digest, disk.digest);
    assert.equal((await api(site.url, "GET", "/galleries/apps/images/disk")).body.kind, "vm");

    // A second version with a delta chunk: its base chunk travels with it.
    const changed = Buffer.from(rawChunk("r-2"));
    changed.write("version two", 100);
    const delta = await makeDeltaDisk(disk, [rawChunk("r-1"), changed, rawChunk("r-3"), rawChunk("r-1")]);
    assert.ok(delta.index.chunks.some((c) => c.encoding === "delta"));
    for (const blob of delta.blobs)
      await client.putBlob("apps/disk", { digest: blob.digest, size: blob.size, bytes: blob.bytes });
    for (const manifest of delta.manifests)
      await client.putManifest("apps/disk", manifest.digest, manifest.bytes, manifest.mediaType);
    const second = await api(source.url, "POST", "/galleries/apps/images/disk/versions", {
      version: "1.1.0",
      from: `apps/disk@${delta.digest}`,
    });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    await reached("1.1.0", "dr", "completed", "disk");
    for (const blob of delta.blobs) assert.ok(await atRegistry.hasBlob("mirror/apps/disk", blob.digest));
    assert.equal(
      (await atRegistry.getManifest("mirror/apps/disk", "1.1.0", [delta.artifact.top.mediaType])).digest,
      delta.digest,
    );
  });

  it("resumes after the source is killed mid-copy without sending completed blobs again", async () => {
    const v2 = await randomImage({ seed: 7004, layers: 6, size: 1024 * 1024 });
    // About 1 MiB a second: six blobs of 1 MiB, two at a time, take a few seconds.
    toRegistry.rate = 1024 * 1024;
    const from = toRegistry.exchanges.length;
    await publish("2.0.0", v2);
    const layers = new Set(v2.layers.map((l) => l.digest));
    const finishedBefore = await until("a layer at the site before the kill", async () => {
      const done = toRegistry.exchanges
        .slice(from)
        .filter((e) => e.status === 201)
        .map(uploadDigest)
        .filter((d): d is string => d !== undefined && layers.has(d));
      return done.length >= 1 ? done : undefined;
    });
    const copying = await stateOf("2.0.0", "dr");
    assert.equal(copying?.state, "copying");
    await source.kill9();
    // A blob whose bytes had all left the source before the kill may still arrive after it: what
    // the site holds is known once every request that was under way is over.
    await until("the requests under way at the kill to end", async () =>
      toRegistry.exchanges.slice(from).every((e) => e.settled) ? true : undefined,
    );
    const sent = new Set(
      toRegistry.exchanges
        .slice(from)
        .filter((e) => e.status === 201)
        .map(uploadDigest)
        .filter((d): d is string => d !== undefined && layers.has(d)),
    );
    assert.ok(sent.size >= finishedBefore.length && sent.size < layers.size, `${sent.size} layers arrived`);
    toRegistry.rate = undefined;
    const restartedAt = toRegistry.exchanges.length;
    await source.restart();
    await reached("2.0.0", "dr", "completed");
    const again = toRegistry.exchanges
      .slice(restartedAt)
      .map(uploadDigest)
      .filter((d): d is string => d !== undefined);
    for (const digest of sent)
      assert.ok(!again.includes(digest), `${digest} was sent again after the restart`);
    for (const digest of layers)
      if (!sent.has(digest)) assert.ok(again.includes(digest), `${digest} never arrived`);
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    for (const digest of layers) assert.ok(await client.hasBlob("mirror/apps/web", digest));
    assert.equal(
      (await client.getManifest("mirror/apps/web", "2.0.0", [v2.mediaType])).digest,
      v2.manifestDigest,
    );
  });

  it("removes the copy from a site dropped from the targets", async () => {
    const set = await strata(["replicate", "set", "apps/web@3.0.0", "--sites", "", "--server", source.url]);
    assert.equal(set.code, 0, set.stderr);
    await until("the copy at dr removed", async () =>
      (await replicas("3.0.0")).length === 0 ? true : undefined,
    );
    const gone = await fetch(`${registry.url}/v2/mirror/apps/web/manifests/3.0.0`);
    assert.equal(gone.status, 404);
    await gone.arrayBuffer();
    // Other versions stay.
    const kept = await fetch(`${registry.url}/v2/mirror/apps/web/manifests/2.0.0`, {
      method: "HEAD",
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(kept.status, 200);
    // At the Strata site the version is deleted through its gallery.
    const dropEu = await api(source.url, "PUT", `${V("1.0.0")}/replication`, { sites: ["dr"] });
    assert.equal(dropEu.status, 200);
    await until("the copy at eu removed", async () => {
      const rows = await replicas("1.0.0");
      return rows.some((r) => r.site === "eu") ? undefined : true;
    });
    const there = await api(site.url, "GET", V("1.0.0"));
    assert.equal(there.body.state, "deleted");
  });
});
