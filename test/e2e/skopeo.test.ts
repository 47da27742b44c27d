// skopeo against the registry: images and multi-platform indexes go in and come back byte for
// byte, and inspect, list-tags and delete behave as skopeo users expect.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { busyboxLayout, type BusyboxLayout } from "../helpers/busybox-layout.ts";
import {
  layoutEntry,
  randomIndex,
  readLayoutBlobs,
  sha256,
  writeOciLayout,
  type OciContent,
} from "../helpers/images.ts";
import {
  copy,
  skopeo,
  skopeoOk,
  startRegistryUnderTest,
  tempDir,
  type RegistryUnderTest,
} from "./support.ts";

let registry: RegistryUnderTest;
let work: Awaited<ReturnType<typeof tempDir>>;
let busybox: BusyboxLayout;

before(async () => {
  registry = await startRegistryUnderTest();
  work = await tempDir("skopeo");
  busybox = await busyboxLayout();
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** Every blob of the content (and its manifest) is in the layout with the same bytes, and nothing else. */
async function assertLayoutHolds(dir: string, tag: string, content: OciContent): Promise<void> {
  const entry = await layoutEntry(dir, tag);
  assert.equal(entry.digest, content.manifestDigest);
  assert.equal(entry.mediaType, content.mediaType);
  const blobs = await readLayoutBlobs(dir);
  const want = new Map(content.blobs).set(content.manifestDigest, content.manifest);
  assert.deepEqual([...blobs.keys()].sort(), [...want.keys()].sort());
  for (const [digest, bytes] of want) assert.ok(blobs.get(digest)?.equals(bytes), `blob ${digest} differs`);
}

describe("skopeo", () => {
  it("pushes a multi-layer image and pulls it back byte for byte", async () => {
    const ref = `docker://${registry.host}/team/app:v1`;
    await copy(`oci:${busybox.dir}:${busybox.tag}`, ref);
    const out = join(work.path, "app-v1");
    await copy(ref, `oci:${out}:v1`);
    await assertLayoutHolds(out, "v1", busybox.image);
  });

  it("pushes a multi-platform index with --all and pulls every platform back", async () => {
    const index = await randomIndex({ seed: 42, layers: 2, size: 64 * 1024 });
    const src = join(work.path, "multi-src");
    await writeOciLayout(src, [index], { tags: ["v1"] });
    const ref = `docker://${registry.host}/team/multi:v1`;
    await copy(`oci:${src}:v1`, ref, ["--all"]);
    const out = join(work.path, "multi-out");
    await copy(ref, `oci:${out}:v1`, ["--all"]);
    await assertLayoutHolds(out, "v1", index);
    const raw = await skopeoOk(["inspect", "--tls-verify=false", "--raw", ref]);
    assert.equal(sha256(raw.stdout), index.manifestDigest);
  });

  it("inspects the manifest, the config and the summary", async () => {
    const ref = `docker://${registry.host}/team/app:v1`;
    const raw = await skopeoOk(["inspect", "--tls-verify=false", "--raw", ref]);
    assert.equal(raw.stdout, busybox.image.manifest.toString("utf8"));
    const config = await skopeoOk(["inspect", "--tls-verify=false", "--config", "--raw", ref]);
    assert.equal(config.stdout, busybox.image.config.toString("utf8"));
    const summary = JSON.parse((await skopeoOk(["inspect", "--tls-verify=false", ref])).stdout) as {
      Digest: string;
      Layers: string[];
      Architecture: string;
      Env: string[];
    };
    assert.equal(summary.Digest, busybox.image.manifestDigest);
    assert.deepEqual(
      summary.Layers,
      busybox.image.layers.map((l) => l.digest),
    );
    assert.ok(summary.Env.includes("PATH=/bin"));
  });

  it("lists tags", async () => {
    await copy(`oci:${busybox.dir}:${busybox.tag}`, `docker://${registry.host}/team/app:v2`);
    const result = await skopeoOk(["list-tags", "--tls-verify=false", `docker://${registry.host}/team/app`]);
    const listing = JSON.parse(result.stdout) as { Repository: string; Tags: string[] };
    assert.equal(listing.Repository, `${registry.host}/team/app`);
    assert.deepEqual([...listing.Tags].sort(), ["v1", "v2"]);
  });

  it("deletes an image, after which its tag is unknown", async () => {
    const ref = `docker://${registry.host}/team/gone:v1`;
    await copy(`oci:${busybox.dir}:${busybox.tag}`, ref);
    await skopeoOk(["inspect", "--tls-verify=false", "--raw", ref]);
    await skopeoOk(["delete", "--tls-verify=false", ref]);
    const result = await skopeo(["inspect", "--tls-verify=false", "--raw", ref]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /manifest unknown/i);
  });
});
