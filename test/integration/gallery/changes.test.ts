// Computed changes of gallery versions: real OCI images (gzipped tar layers) pushed through the
// registry API and published one after another. The first version has no changes; the next is
// diffed against it on publish — a file changed, one added, one removed, an environment variable
// changed — and the diff is attached as a referrer, summarised in the version's detail, served
// whole by the API and printed by `strata version changes` (computed after the publish's
// answer); a version published between two
// others is diffed against the one below it; content the diff cannot read is published all the
// same, without changes; the disks of a vm definition are diffed through their subject images,
// which stay in the repository they were pushed to.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createDiskArtifact, pushDisk } from "../../../src/disk/index.ts";
import { MediaType } from "../../../src/oci/index.ts";
import { RegistryClient } from "../../../src/remote/index.ts";
import { runStrata } from "../../helpers/cli-run.ts";
import { authYaml, basic, galleryApi, PASSWORD, pushImage } from "../../helpers/gallery.ts";
import { buildImage, buildLayer, type TestImage } from "../../helpers/images.ts";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";

const DIFF = "application/vnd.strata.diff.v1+json";

let s: InProcess;
let api: ReturnType<typeof galleryApi>;
let client: RegistryClient;
const digests: Record<string, string> = {};

async function push(repository: string, tag: string, image: TestImage): Promise<string> {
  for (const [digest, bytes] of image.blobs)
    await client.putBlob(repository, { digest, size: bytes.length, bytes });
  await client.putManifest(repository, tag, image.manifest, MediaType.ImageManifest);
  return image.manifestDigest;
}

async function image(files: Record<string, string>, env: string[]): Promise<TestImage> {
  const base = await buildLayer([
    { name: "etc/", type: "directory" },
    { name: "etc/os-release", type: "file", content: Buffer.from('ID=strata\nVERSION_ID="1"\n') },
  ]);
  const app = await buildLayer([
    { name: "app/", type: "directory" },
    ...Object.entries(files).map(([name, text]) => ({
      name: `app/${name}`,
      type: "file" as const,
      content: Buffer.from(text),
    })),
  ]);
  return buildImage({ layers: [base, app], execution: { Env: env, Cmd: ["/app/run"] } });
}

async function publish(version: string, digest: string): Promise<void> {
  const answer = await api(
    "POST",
    "/galleries/prod/images/web/versions",
    { version, from: `builds/web@${digest}` },
    "alice",
  );
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  // The changes are computed after the publish's answer.
  await s.server.gallery.backgroundIdle();
}

before(async () => {
  s = await startInProcess({ listen: true, yaml: await authYaml(["alice"]) });
  api = galleryApi(s.server.app);
  client = new RegistryClient({
    registry: new URL(s.url).host,
    credentials: { username: "alice", password: PASSWORD },
    insecure: true,
  });
  assert.equal((await api("POST", "/galleries", { name: "prod" }, "alice")).status, 201);
  assert.equal(
    (await api("POST", "/galleries/prod/images", { name: "web", kind: "container" }, "alice")).status,
    201,
  );
  digests.v100 = await push(
    "builds/web",
    "1.0.0",
    await image({ run: "v1 program", "old.txt": "going away" }, ["PATH=/app", "MODE=blue"]),
  );
  digests.v110 = await push(
    "builds/web",
    "1.1.0",
    await image({ run: "v2 program, longer", "new.txt": "arrived" }, ["PATH=/app", "MODE=green"]),
  );
  digests.v101 = await push(
    "builds/web",
    "1.0.1",
    await image({ run: "v1 program, patched", "old.txt": "going away" }, ["PATH=/app", "MODE=blue"]),
  );
});
after(async () => {
  await s?.stop();
});

describe("computed changes of gallery versions", () => {
  it("has none for the first version", async () => {
    await publish("1.0.0", digests.v100!);
    const detail = await api("GET", "/galleries/prod/images/web/versions/1.0.0", undefined, "alice");
    assert.equal(detail.body.changes, undefined);
    const changes = await api("GET", "/galleries/prod/images/web/versions/1.0.0/changes", undefined, "alice");
    assert.equal(changes.status, 404);
    assert.match(JSON.stringify(changes.body), /has no computed changes \(it is the first version\)/);
  });

  it("diffs a new version against the previous one on publish and attaches the diff", async () => {
    await publish("1.1.0", digests.v110!);
    const detail = await api("GET", "/galleries/prod/images/web/versions/1.1.0", undefined, "alice");
    const changes = detail.body.changes;
    assert.deepEqual(changes.against, { version: "1.0.0", digest: digests.v100 });
    assert.deepEqual(changes.files, { added: 1, removed: 1, changed: 1 });
    assert.deepEqual(changes.config, ["env"]);
    // The whole diff, from the API.
    const whole = await api("GET", "/galleries/prod/images/web/versions/1.1.0/changes", undefined, "alice");
    assert.equal(whole.status, 200);
    assert.deepEqual(
      whole.body.files.added.map((f: { path: string }) => f.path),
      ["/app/new.txt"],
    );
    assert.deepEqual(
      whole.body.files.removed.map((f: { path: string }) => f.path),
      ["/app/old.txt"],
    );
    assert.deepEqual(
      whole.body.files.changed.map((f: { path: string }) => f.path),
      ["/app/run"],
    );
    // Stored as a referrer of the version's content, found through the registry's API.
    const referrers = await s.server.app.inject({
      url: `/v2/prod/web/referrers/${digests.v110}?artifactType=${encodeURIComponent(DIFF)}`,
      headers: { authorization: basic("alice") },
    });
    const index = JSON.parse(referrers.body) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [changes.referrer],
    );
    assert.equal(index.manifests[0]?.annotations?.["dev.strata.diff.base.digest"], digests.v100);
  });

  it("prints the changes with strata version show and strata version changes", async () => {
    const env = { STRATA_USERNAME: "alice", STRATA_PASSWORD: PASSWORD, STRATA_SERVER: s.url };
    const shown = await runStrata(["version", "show", "prod/web:1.1.0"], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /changes: +since 1\.0\.0: files \+1 -1 ~1; config: env/);
    const text = await runStrata(["version", "changes", "prod/web:1.1.0"], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /app\/new\.txt/);
    assert.match(text.stdout, /MODE/);
    const markdown = await runStrata(["version", "changes", "prod/web:1.1.0", "--markdown"], env);
    assert.equal(markdown.code, 0, markdown.stderr);
    assert.match(markdown.stdout, /^#/m);
    const json = await runStrata(["version", "changes", "prod/web:1.1.0", "--json"], env);
    assert.equal(JSON.parse(json.stdout).after.digest, digests.v110);
    const first = await runStrata(["version", "changes", "prod/web:1.0.0"], env);
    assert.equal(first.code, 1);
    assert.match(first.stderr, /first version/);
  });

  it("diffs a version published between two others against the one below it", async () => {
    await publish("1.0.1", digests.v101!);
    const detail = await api("GET", "/galleries/prod/images/web/versions/1.0.1", undefined, "alice");
    assert.deepEqual(detail.body.changes.against, { version: "1.0.0", digest: digests.v100 });
    assert.deepEqual(detail.body.changes.files, { added: 0, removed: 0, changed: 1 });
    assert.equal(detail.body.changes.config, undefined);
  });

  it("diffs a vm definition's disks through their subject images in another repository", async () => {
    assert.equal(
      (await api("POST", "/galleries/prod/images", { name: "web-vm", kind: "vm" }, "alice")).status,
      201,
    );
    const work = await mkdtemp(join(tmpdir(), "strata-changes-disk-"));
    try {
      const qcow2 = join(work, "disk.qcow2");
      await promisify(execFile)("qemu-img", ["create", "-q", "-f", "qcow2", qcow2, "64M"]);
      for (const [version, subject] of [
        ["1.0.0", digests.v100!],
        ["1.1.0", digests.v110!],
      ] as const) {
        const manifest = await client.getManifest("builds/web", subject, [MediaType.ImageManifest]);
        const artifact = await createDiskArtifact(qcow2, {
          virtualSize: 64 * 2 ** 20,
          boot: "bios",
          source: { digest: subject, size: manifest.bytes.length, mediaType: MediaType.ImageManifest },
        });
        const pushed = await pushDisk(client, "builds/web", artifact, { tag: `disk-${version}` });
        const answer = await api(
          "POST",
          "/galleries/prod/images/web-vm/versions",
          { version, from: `builds/web@${pushed.digest}` },
          "alice",
        );
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        await s.server.gallery.backgroundIdle();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const detail = await api("GET", "/galleries/prod/images/web-vm/versions/1.1.0", undefined, "alice");
    assert.deepEqual(
      detail.body.changes?.files,
      { added: 1, removed: 1, changed: 1 },
      JSON.stringify(detail.body),
    );
    const whole = await api(
      "GET",
      "/galleries/prod/images/web-vm/versions/1.1.0/changes",
      undefined,
      "alice",
    );
    // The images compared are the disks' subjects, read from builds/web where they were pushed.
    assert.deepEqual(
      [whole.body.before.digest, whole.body.after.digest, whole.body.disk.same],
      [digests.v100, digests.v110, false],
    );
  });

  it("publishes content the diff cannot read, without changes", async () => {
    // A manifest whose "layer" is not a tar: the diff fails, the publish does not.
    const bogus = await pushImage(s.server.app, "builds/web", "bogus", "not a tar", { user: "alice" });
    await publish("2.0.0", bogus);
    const detail = await api("GET", "/galleries/prod/images/web/versions/2.0.0", undefined, "alice");
    assert.equal(detail.status, 200);
    assert.equal(detail.body.digest, bogus);
    assert.equal(detail.body.changes, undefined);
    assert.ok(
      s.errors().length === 0 || s.errors().every((line) => !/"level":(50|60)/.test(line)),
      s.errors().join("\n"),
    );
  });
});
