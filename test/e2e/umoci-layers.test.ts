// Bases written by Debian's umoci (0.4.7): `umoci insert` of a whole root at "/" writes an entry
// named "/", and every `umoci insert` ends its layer right after the last entry's data, without
// padding or end-of-archive blocks. Strata builds FROM such bases as an OCI layout, from the
// registry and from a gallery version, runs them with `strata run`, and commits a kept container.
import assert from "node:assert/strict";
import { chmod, copyFile, cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { busyboxLayout } from "../helpers/busybox-layout.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { run, runOk } from "../helpers/exec.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { copy, tempDir } from "./support.ts";

let work: Awaited<ReturnType<typeof tempDir>>;
let server: InProcess;
let host: string;
/** `umoci insert --image … ROOTFS /`: a whole busybox root, with the entry "/". */
let rootBase: string;
/** The busybox test image plus `umoci insert` of a small folder at /opt/app. */
let folderBase: string;

const GREETING = "hello from a folder umoci inserted\n";

async function strata(args: readonly string[]) {
  return runStrata(args, {
    HOME: join(work.path, "home"),
    STRATA_SERVER: server.url,
    STRATA_DATA_DIR: join(work.path, "data"),
    SOURCE_DATE_EPOCH: "0",
  });
}

async function ok(args: readonly string[]) {
  const result = await strata(args);
  assert.equal(result.code, 0, `strata ${args.join(" ")}: ${result.stderr}`);
  return result;
}

const umoci = (args: readonly string[]) => runOk("umoci", args, { timeoutMs: 60_000 });

/** A context folder with this Containerfile. */
async function context(name: string, containerfile: string): Promise<string> {
  const dir = join(work.path, "contexts", name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "Containerfile"), containerfile);
  return dir;
}

/** The uncompressed tar of the top layer of a tagged image in a layout. */
async function topLayerTar(layout: string, tag: string): Promise<Buffer> {
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  const blob = (digest: string) => join(layout, "blobs", ...digest.split(":"));
  const manifest = JSON.parse(await readFile(blob(entry?.digest ?? ""), "utf8")) as {
    layers: { digest: string }[];
  };
  return gunzipSync(await readFile(blob(manifest.layers.at(-1)?.digest ?? "")));
}

before(async () => {
  work = await tempDir("umoci-layers");
  server = await startInProcess({ listen: true });
  host = new URL(server.url).host;

  const rootfs = join(work.path, "rootfs");
  await mkdir(join(rootfs, "bin"), { recursive: true });
  await copyFile("/bin/busybox", join(rootfs, "bin/busybox"));
  await chmod(join(rootfs, "bin/busybox"), 0o755);
  for (const applet of ["sh", "cat", "echo", "ls", "test"])
    await symlink("busybox", join(rootfs, "bin", applet));
  for (const dir of ["dev", "etc", "proc", "sys", "tmp", "root"]) await mkdir(join(rootfs, dir));
  await writeFile(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await writeFile(join(rootfs, "etc/group"), "root:x:0:\n");
  await chmod(rootfs, 0o755);
  rootBase = join(work.path, "umoci-root");
  await umoci(["init", "--layout", rootBase]);
  await umoci(["new", "--image", `${rootBase}:base`]);
  await umoci(["insert", "--image", `${rootBase}:base`, rootfs, "/"]);
  await umoci(["config", "--image", `${rootBase}:base`, "--config.env", "PATH=/bin"]);

  const app = join(work.path, "app");
  await mkdir(app);
  await writeFile(join(app, "greeting"), GREETING);
  folderBase = join(work.path, "umoci-folder");
  await cp((await busyboxLayout()).dir, folderBase, { recursive: true });
  await umoci(["insert", "--image", `${folderBase}:latest`, app, "/opt/app"]);
});

after(async () => {
  // A container a failed test left running would hold its folder.
  const runcRoot = join(work.path, "data/runc");
  const left = await run("runc", ["--root", runcRoot, "list", "-q"]);
  for (const id of left.stdout.split("\n").filter(Boolean))
    await run("runc", ["--root", runcRoot, "delete", "-f", id]);
  await server?.stop();
  await work?.remove();
});

describe("bases written by umoci", () => {
  it('are what this test is about: a root entry "/" and layers without end-of-archive blocks', async () => {
    const root = await topLayerTar(rootBase, "base");
    assert.equal(root.toString("utf8", 0, 2), "/\0", "the first entry is the root");
    const folder = await topLayerTar(folderBase, "latest");
    const zeros = Buffer.alloc(512);
    assert.equal(root.subarray(-512).equals(zeros), false, "no end-of-archive blocks");
    assert.equal(folder.subarray(-512).equals(zeros), false, "no end-of-archive blocks");
    assert.notEqual(folder.length % 512, 0, "the greeting's data is not padded");
  });

  it("builds FROM oci-layout on a whole root umoci inserted at /, and runs base and result", async () => {
    const direct = await ok([
      "run",
      `oci-layout:${rootBase}:base`,
      "--",
      "sh",
      "-c",
      "echo direct; ls /bin/busybox",
    ]);
    assert.equal(direct.stdout, "direct\n/bin/busybox\n");
    const ctx = await context(
      "root",
      `FROM oci-layout:${rootBase}:base\nRUN echo built > /built\nCMD ["cat", "/built"]\n`,
    );
    const out = join(work.path, "out-root");
    await ok(["build", "-t", `oci-layout:${out}:v1`, ctx]);
    const ran = await ok(["run", `oci-layout:${out}:v1`]);
    assert.equal(ran.stdout, "built\n");
  });

  it("builds FROM oci-layout on a base whose umoci layer is a small folder, and runs the result", async () => {
    const ctx = await context(
      "folder",
      `FROM oci-layout:${folderBase}:latest\nRUN cat /opt/app/greeting /hello.txt > /both\n`,
    );
    const out = join(work.path, "out-folder");
    await ok(["build", "-t", `oci-layout:${out}:v1`, ctx]);
    const ran = await ok(["run", `oci-layout:${out}:v1`, "--", "cat", "/both"]);
    assert.equal(ran.stdout, `${GREETING}hello from strata\n`);
  });

  it("builds FROM the umoci base pushed to the registry and published in the gallery", async () => {
    await copy(`oci:${rootBase}:base`, `docker://${host}/bases/umoci:1`);
    const fromRegistry = await context(
      "registry",
      `FROM ${host}/bases/umoci:1\nRUN echo from the registry > /where\n`,
    );
    const out = join(work.path, "out-registry");
    await ok(["build", "-t", `oci-layout:${out}:v1`, fromRegistry]);
    assert.equal(
      (await ok(["run", `oci-layout:${out}:v1`, "--", "cat", "/where"])).stdout,
      "from the registry\n",
    );

    await ok(["gallery", "create", "e2e"]);
    await ok(["image", "define", "e2e/umoci-base", "--kind", "container"]);
    await ok(["version", "publish", "e2e/umoci-base", "1.0.0", "--from", `${host}/bases/umoci:1`]);
    const fromGallery = await context(
      "gallery",
      `FROM ${host}/e2e/umoci-base:1.0.0\nRUN echo from the gallery > /where\n`,
    );
    await ok(["build", "-t", `oci-layout:${out}:v2`, fromGallery]);
    assert.equal(
      (await ok(["run", `oci-layout:${out}:v2`, "--", "cat", "/where"])).stdout,
      "from the gallery\n",
    );
  });

  it("commits a kept container of the umoci base, and the commit runs", async () => {
    await ok([
      "run",
      "--keep",
      "--name",
      "u1",
      `oci-layout:${folderBase}:latest`,
      "--",
      "sh",
      "-c",
      "echo kept > /kept",
    ]);
    const committed = join(work.path, "committed");
    await ok(["commit", "u1", "-t", `oci-layout:${committed}:v1`]);
    await ok(["rm", "u1"]);
    const again = await ok(["run", `oci-layout:${committed}:v1`, "--", "cat", "/kept", "/opt/app/greeting"]);
    assert.equal(again.stdout, `kept\n${GREETING}`);
  });
});
