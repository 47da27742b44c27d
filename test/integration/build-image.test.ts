// The builder's image pieces with real tools: the busybox base image made by
// scripts/base-images.ts (reproducible layers, immutable image transforms, an OCI layout) is
// the same bytes when made twice, reads back, unpacks with umoci and runs with runc.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { readImageFromLayout } from "../../src/builder/index.ts";
import { run, runOk } from "../helpers/exec.ts";

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-image-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("base images from Debian packages", () => {
  it("are the same bytes when made twice in two places", async () => {
    const a = await buildBusyboxBase(join(work, "a"));
    const b = await buildBusyboxBase(join(work, "b"), "other-tag");
    assert.equal(a, b);
  });

  it("read back from the layout with every blob checked", async () => {
    const image = await readImageFromLayout(join(work, "a"), "busybox");
    assert.equal(image.layers.length, 1);
    assert.deepEqual(image.config.config?.Cmd, ["/bin/sh"]);
    assert.equal(image.config.created, "2024-01-01T00:00:00.000Z");
    await assert.rejects(readImageFromLayout(join(work, "a"), "nope"), /has no tag "nope" \(tags: busybox\)/);
  });

  it("unpack with umoci and run with runc", async () => {
    const bundle = join(work, "bundle");
    await runOk("umoci", ["unpack", "--image", `${join(work, "a")}:busybox`, bundle], { timeoutMs: 60_000 });
    const specPath = join(bundle, "config.json");
    const spec = JSON.parse(await readFile(specPath, "utf8")) as {
      process: { terminal: boolean; args: string[] };
    };
    spec.process.terminal = false;
    spec.process.args = ["/bin/sh", "-c", "echo hello from $(uname -s); ls -ld /tmp"];
    await writeFile(specPath, JSON.stringify(spec));
    const id = `strata-base-${process.pid}-${randomBytes(4).toString("hex")}`;
    const state = join(work, "runc");
    try {
      const result = await runOk("runc", ["--root", state, "run", "--bundle", bundle, id], {
        timeoutMs: 60_000,
      });
      assert.match(result.stdout, /^hello from Linux\ndrwxrwxrwt/);
    } finally {
      await run("runc", ["--root", state, "delete", "-f", id], { timeoutMs: 30_000 });
    }
  });
});
