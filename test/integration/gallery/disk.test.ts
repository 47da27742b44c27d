// VM disks in the gallery: a disk artifact (a real qcow2 from qemu-img) pushed through the
// remote client with a container image as its subject and base, published as a version of a
// `kind: vm` definition; revoking the image's version with cascade revokes the disk's, and a
// pull of the revoked disk is refused with the gallery's reason. Each kind refuses the other's
// content.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createDiskArtifact, fetchDisk, pullDisk, pushDisk } from "../../../src/disk/index.ts";
import { MediaType } from "../../../src/oci/index.ts";
import { RegistryClient } from "../../../src/remote/index.ts";
import { authYaml, galleryApi, PASSWORD, pushImage } from "../../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";

const run = promisify(execFile);

describe("disk artifacts in the gallery", () => {
  let s: InProcess;
  let work: string;
  let client: RegistryClient;
  let api: ReturnType<typeof galleryApi>;
  let imageDigest: string;
  let diskDigest: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "strata-gallery-disk-"));
    s = await startInProcess({ listen: true, yaml: await authYaml(["alice"]) });
    api = galleryApi(s.server.app);
    client = new RegistryClient({
      registry: new URL(s.url).host,
      credentials: { username: "alice", password: PASSWORD },
      insecure: true,
    });
    assert.equal((await api("POST", "/galleries", { name: "prod" }, "alice")).status, 201);
    for (const [name, kind] of [
      ["web", "container"],
      ["web-vm", "vm"],
    ])
      assert.equal((await api("POST", "/galleries/prod/images", { name, kind }, "alice")).status, 201);

    // The container image, published as prod/web 1.0.0.
    imageDigest = await pushImage(s.server.app, "builds/web", "1", "disk-source", { user: "alice" });
    const published = await api(
      "POST",
      "/galleries/prod/images/web/versions",
      { version: "1.0.0", from: `builds/web@${imageDigest}` },
      "alice",
    );
    assert.equal(published.status, 201, JSON.stringify(published.body));

    // A disk made from it, pushed beside it as its referrer.
    const qcow2 = join(work, "disk.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", qcow2, "64M"]);
    const manifest = await client.getManifest("builds/web", imageDigest, [MediaType.ImageManifest]);
    const artifact = await createDiskArtifact(qcow2, {
      virtualSize: 64 * 2 ** 20,
      boot: "bios",
      source: { digest: imageDigest, size: manifest.bytes.length, mediaType: MediaType.ImageManifest },
    });
    const pushed = await pushDisk(client, "builds/web", artifact, { tag: "disk-1" });
    assert.equal(pushed.referrers, "api");
    diskDigest = pushed.digest;
  });
  after(async () => {
    await s.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("reads the pushed disk back, listed among its image's referrers", async () => {
    const d = await fetchDisk(client, "builds/web", "disk-1");
    assert.equal(d.digest, diskDigest);
    assert.equal(d.baseDigest, imageDigest);
    assert.equal(d.subject?.digest, imageDigest);
    assert.equal(d.virtualSize, 64 * 2 ** 20);
    const referrers = await s.server.app.inject({
      url: `/v2/builds/web/referrers/${imageDigest}`,
      headers: { authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}` },
    });
    const listed = JSON.parse(referrers.body).manifests as { digest: string; artifactType: string }[];
    assert.deepEqual(listed, [
      { ...listed[0], digest: diskDigest, artifactType: "application/vnd.strata.disk.v1" },
    ]);
  });

  it("refuses a disk in a container definition and an image in a vm definition", async () => {
    const disk = await api(
      "POST",
      "/galleries/prod/images/web/versions",
      { version: "2.0.0", from: `builds/web@${diskDigest}` },
      "alice",
    );
    assert.equal(disk.status, 400);
    assert.match(disk.body.errors[0].message, /"prod\/web" is of kind "container": .* is a disk artifact/);
    const image = await api(
      "POST",
      "/galleries/prod/images/web-vm/versions",
      { version: "1.0.0", from: "builds/web:1" },
      "alice",
    );
    assert.equal(image.status, 400);
    assert.match(
      image.body.errors[0].message,
      /"prod\/web-vm" is of kind "vm": its versions are disk artifacts, and .* is a container image/,
    );
    // Nothing was published or linked by either refusal.
    for (const name of ["web", "web-vm"]) {
      const versions = await api("GET", `/galleries/prod/images/${name}/versions`, undefined, "alice");
      assert.deepEqual(
        versions.body.map((v: { version: string }) => v.version),
        name === "web" ? ["1.0.0"] : [],
      );
    }
    await assert.rejects(fetchDisk(client, "prod/web-vm", diskDigest), /HTTP 404/);
  });

  it("publishes the disk to a vm definition, revokes it with its image, and refuses its pull", async () => {
    const published = await api(
      "POST",
      "/galleries/prod/images/web-vm/versions",
      { version: "1.0.0", from: "builds/web:disk-1" },
      "alice",
    );
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal(published.body.digest, diskDigest);
    assert.equal(published.body.baseDigest, imageDigest);

    // Pullable while published.
    const out = join(work, "pulled.qcow2");
    const d = await pullDisk(client, "prod/web-vm", "1.0.0", out);
    assert.equal(d.digest, diskDigest);
    const info = JSON.parse((await run("qemu-img", ["info", "--output=json", out])).stdout);
    assert.equal(info.format, "qcow2");
    assert.equal(info["virtual-size"], 64 * 2 ** 20);

    const revoked = await api(
      "POST",
      "/galleries/prod/images/web/versions/1.0.0/revoke",
      { reason: "CVE-2026-1234 in openssl", cascade: true },
      "alice",
    );
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual(
      revoked.body.revoked.map((v: { image: string; version: string }) => `${v.image}:${v.version}`),
      ["web:1.0.0", "web-vm:1.0.0"],
    );
    const version = await api("GET", "/galleries/prod/images/web-vm/versions/1.0.0", undefined, "alice");
    assert.equal(version.body.state, "revoked");
    assert.match(version.body.revocation.reason, /base image .* revoked: CVE-2026-1234 in openssl/);

    const dir = await mkdtemp(join(work, "refused-"));
    for (const reference of ["1.0.0", diskDigest])
      await assert.rejects(
        pullDisk(client, "prod/web-vm", reference, join(dir, "disk.qcow2")),
        /HTTP 403 DENIED: .*revoked: base image .* revoked: CVE-2026-1234 in openssl/,
      );
    assert.deepEqual(await readdir(dir), []);
  });
});
