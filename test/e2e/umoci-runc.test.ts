// An image pushed to the registry and pulled back with skopeo unpacks with umoci into a bundle
// that runc runs: the layers, their order and the config survive the round trip intact.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { busyboxLayout, HELLO_TEXT } from "../helpers/busybox-layout.ts";
import { run, runOk } from "../helpers/exec.ts";
import { layoutEntry } from "../helpers/images.ts";
import { copy, startRegistryUnderTest, tempDir, type RegistryUnderTest } from "./support.ts";

let registry: RegistryUnderTest;
let work: Awaited<ReturnType<typeof tempDir>>;
let ref: string;
let manifestDigest: string;

before(async () => {
  registry = await startRegistryUnderTest();
  work = await tempDir("umoci");
  const busybox = await busyboxLayout();
  manifestDigest = busybox.image.manifestDigest;
  ref = `docker://${registry.host}/team/busybox:v1`;
  await copy(`oci:${busybox.dir}:${busybox.tag}`, ref);
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

interface RuntimeSpec {
  process: { terminal: boolean; args: string[] };
}

describe("umoci and runc", () => {
  it("unpacks the pulled image and runs it", async () => {
    const layout = join(work.path, "pulled");
    await copy(ref, `oci:${layout}:v1`);
    assert.equal((await layoutEntry(layout, "v1")).digest, manifestDigest);

    const bundle = join(work.path, "bundle");
    await runOk("umoci", ["unpack", "--image", `${layout}:v1`, bundle], { timeoutMs: 60_000 });
    assert.equal(await readFile(join(bundle, "rootfs", "hello.txt"), "utf8"), HELLO_TEXT);

    const specPath = join(bundle, "config.json");
    const spec = JSON.parse(await readFile(specPath, "utf8")) as RuntimeSpec;
    assert.deepEqual(spec.process.args, ["/bin/sh", "-c", "echo hello from strata"]);
    spec.process.terminal = false;
    spec.process.args = ["/bin/sh", "-c", "cat /hello.txt; echo ok"];
    await writeFile(specPath, JSON.stringify(spec));

    const state = join(work.path, "runc-state");
    const id = `strata-e2e-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      const result = await runOk("runc", ["--root", state, "run", "--bundle", bundle, id], {
        timeoutMs: 60_000,
      });
      assert.equal(result.stdout, `${HELLO_TEXT}ok\n`);
    } finally {
      await run("runc", ["--root", state, "delete", "-f", id], { timeoutMs: 30_000 });
    }
  });
});
