// File sources: a root directory and an image's layers read in place — symlinks followed inside
// the root only, whiteouts and opaque directories applied, size limits, refused layers.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildLayer, buildTar, type LayerEntry } from "../../test/helpers/images.ts";
import { dirSource } from "./dir-source.ts";
import { SbomError } from "./errors.ts";
import { layerSource } from "./layer-source.ts";

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "sbom-source-"));
});
after(() => rm(work, { recursive: true, force: true }));

let n = 0;
async function layerFile(entries: readonly LayerEntry[], gzip = true): Promise<{ path: string }> {
  const path = join(work, `layer-${n++}`);
  await writeFile(path, gzip ? (await buildLayer(entries)).blob : await buildTar(entries));
  return { path };
}
const file = (name: string, text: string): LayerEntry => ({ name, type: "file", content: Buffer.from(text) });
const dir = (name: string): LayerEntry => ({ name, type: "directory" });
const link = (name: string, linkname: string): LayerEntry => ({ name, type: "symlink", linkname });
const text = async (p: Promise<Buffer | undefined>) => (await p)?.toString("utf8");

test("dirSource follows symlinks inside the root, never out of it", async () => {
  const root = join(work, "root");
  await mkdir(join(root, "usr/lib"), { recursive: true });
  await mkdir(join(root, "etc"));
  await writeFile(join(root, "usr/lib/os-release"), "ID=debian\n");
  await symlink("../usr/lib/os-release", join(root, "etc/os-release"));
  await symlink("../../../../../etc/hostname", join(root, "etc/escape"));
  await symlink("loop-b", join(root, "etc/loop-a"));
  await symlink("loop-a", join(root, "etc/loop-b"));
  const source = dirSource(root);
  assert.equal(await text(source.readFile("/etc/os-release", 100)), "ID=debian\n");
  // The link climbs above the root: it stays at the root, where there is no etc/hostname.
  assert.equal(await source.readFile("/etc/escape", 100), undefined);
  assert.equal(await source.readFile("/etc/loop-a", 100), undefined);
  assert.deepEqual(await source.list("/etc"), ["escape", "loop-a", "loop-b", "os-release"]);
  assert.equal(await source.list("/etc/os-release"), undefined);
  await assert.rejects(source.readFile("/etc/os-release", 4), (e: unknown) => {
    assert.ok(e instanceof SbomError);
    assert.match(e.message, /^\/etc\/os-release: is larger than 4 bytes/);
    return true;
  });
});

test("layerSource applies layers in order with whiteouts and opaque directories", async () => {
  const wanted = (p: string) => p.startsWith("/var/lib/dpkg/") || p === "/etc/os-release";
  const layers = [
    await layerFile([
      dir("var/lib/dpkg/status.d"),
      file("var/lib/dpkg/status.d/a", "A"),
      file("var/lib/dpkg/status.d/b", "B"),
      file("var/lib/dpkg/status", "old"),
      file("etc/os-release", "ID=one\n"),
      file("etc/unwanted", "x"),
    ]),
    await layerFile(
      [
        file("var/lib/dpkg/status.d/.wh..wh..opq", ""),
        file("var/lib/dpkg/status.d/c", "C"),
        file("var/lib/dpkg/status", "new"),
        file("etc/.wh.os-release", ""),
      ],
      false,
    ),
  ];
  const source = await layerSource(layers, { wanted });
  assert.deepEqual(await source.list("/var/lib/dpkg/status.d"), ["c"]);
  assert.equal(await text(source.readFile("/var/lib/dpkg/status", 100)), "new");
  assert.equal(await source.readFile("/etc/os-release", 100), undefined);
  assert.equal(await source.readFile("/etc/unwanted", 100), undefined);
});

test("layerSource resolves symlinked directories and files (merged /usr)", async () => {
  const layers = [
    await layerFile([
      dir("usr/lib/apk/db"),
      file("usr/lib/apk/db/installed", "P:x\n"),
      link("lib", "usr/lib"),
      file("usr/lib/os-release", "ID=alpine\n"),
      link("etc/os-release", "../usr/lib/os-release"),
    ]),
  ];
  const source = await layerSource(layers, {
    wanted: (p) => p.startsWith("/usr/lib/") || p.startsWith("/lib/"),
  });
  assert.equal(await text(source.readFile("/lib/apk/db/installed", 100)), "P:x\n");
  assert.equal(await text(source.readFile("/etc/os-release", 100)), "ID=alpine\n");
});

test("layerSource: an oversized wanted file is an error when read, naming it", async () => {
  const source = await layerSource([await layerFile([file("var/lib/dpkg/status", "x".repeat(100))])], {
    wanted: () => true,
    maxFileBytes: 10,
  });
  await assert.rejects(
    source.readFile("/var/lib/dpkg/status", 10),
    /^SbomError: \/var\/lib\/dpkg\/status: is larger than 10 bytes \(100\)/,
  );
});

test("layerSource refuses '..' paths, cut layers and zstd layers with the layer named", async () => {
  const evil = await layerFile([file("../etc/passwd", "x")]);
  await assert.rejects(
    layerSource([evil], { wanted: () => true }),
    /layer 1.*"\.\.\/etc\/passwd" has a path with "\.\."/,
  );
  const whole = await buildTar([file("var/lib/dpkg/status", "x".repeat(2000))]);
  const cut = join(work, "cut");
  await writeFile(cut, whole.subarray(0, 1024));
  await assert.rejects(
    layerSource([{ path: cut, digest: "sha256:abc" }], { wanted: () => true }),
    (e: unknown) => {
      assert.ok(e instanceof SbomError);
      assert.match(e.message, /cannot read layer 1 \(sha256:abc\)/);
      return true;
    },
  );
  const zstd = join(work, "zstd");
  await writeFile(zstd, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
  await assert.rejects(layerSource([{ path: zstd }], { wanted: () => true }), /zstd layer/);
});
