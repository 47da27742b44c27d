// Copies between the registry and a real peer (CNCF Distribution) with skopeo: Distribution →
// registry → a fresh Distribution keeps every digest, for a single image and a two-platform index.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { busyboxLayout } from "../helpers/busybox-layout.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { MediaType } from "../../src/oci/index.ts";
import { randomIndex, sha256, writeOciLayout, type OciContent, type TestIndex } from "../helpers/images.ts";
import { copy, skopeoOk, startRegistryUnderTest, tempDir, type RegistryUnderTest } from "./support.ts";

let source: RunningDistribution;
let registry: RegistryUnderTest;
let target: RunningDistribution;
let work: Awaited<ReturnType<typeof tempDir>>;

before(async () => {
  // One at a time, so a server that fails to start leaves the others assigned for after().
  source = await startDistribution();
  registry = await startRegistryUnderTest();
  target = await startDistribution();
  work = await tempDir("peer");
});
after(async () => {
  await Promise.all([source?.stop(), registry?.stop(), target?.stop()]);
  await work?.remove();
});

/** The registry at url serves the manifest and every blob of content under repo, with the same bytes. */
async function assertServes(url: string, repo: string, content: OciContent | TestIndex): Promise<void> {
  const children = new Set("images" in content ? content.images.map((i) => i.manifestDigest) : []);
  const all = new Map(content.blobs).set(content.manifestDigest, content.manifest);
  for (const [digest, bytes] of all) {
    const kind = digest === content.manifestDigest || children.has(digest) ? "manifests" : "blobs";
    const res = await fetch(`${url}/v2/${repo}/${kind}/${digest}`, {
      headers: { accept: `${content.mediaType}, ${MediaType.ImageManifest}, */*` },
    });
    assert.equal(res.status, 200, `${url}: ${kind} ${digest}`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), `${url}: ${kind} ${digest} differs`);
  }
}

async function assertRawDigest(ref: string, digest: string): Promise<void> {
  const raw = await skopeoOk(["inspect", "--tls-verify=false", "--raw", ref]);
  assert.equal(sha256(raw.stdout), digest, ref);
}

describe("Distribution as a peer", () => {
  it("copies an image Distribution → registry → Distribution with identical digests", async () => {
    const busybox = await busyboxLayout();
    const hops = [
      { url: source.url, repo: "team/app", ref: `docker://${source.host}/team/app:v1` },
      { url: registry.url, repo: "mirror/app", ref: `docker://${registry.host}/mirror/app:v1` },
      { url: target.url, repo: "back/app", ref: `docker://${target.host}/back/app:v1` },
    ];
    await copy(`oci:${busybox.dir}:${busybox.tag}`, hops[0]!.ref);
    for (const [i, hop] of hops.entries()) {
      if (i > 0) await copy(hops[i - 1]!.ref, hop.ref);
      await assertRawDigest(hop.ref, busybox.image.manifestDigest);
      await assertServes(hop.url, hop.repo, busybox.image);
    }
  });

  it("copies a two-platform index with --all along the same path", async () => {
    const index = await randomIndex({ seed: 9, layers: 3, size: 32 * 1024 });
    const src = join(work.path, "index");
    await writeOciLayout(src, [index], { tags: ["v1"] });
    const hops = [
      { url: source.url, repo: "team/multi", ref: `docker://${source.host}/team/multi:v1` },
      { url: registry.url, repo: "mirror/multi", ref: `docker://${registry.host}/mirror/multi:v1` },
      { url: target.url, repo: "back/multi", ref: `docker://${target.host}/back/multi:v1` },
    ];
    await copy(`oci:${src}:v1`, hops[0]!.ref, ["--all"]);
    for (const [i, hop] of hops.entries()) {
      if (i > 0) await copy(hops[i - 1]!.ref, hop.ref, ["--all"]);
      await assertRawDigest(hop.ref, index.manifestDigest);
      await assertServes(hop.url, hop.repo, index);
    }
  });
});
