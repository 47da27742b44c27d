// A base whose top layer was cut inside a file's data (its digest still matches: the bytes were
// cut before they were stored): `strata build` FROM it and `strata run` of it are refused with
// where the layer ends, and neither leaves anything behind — no output layout, no unpacked
// layer, no container, no mount.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { buildBusyboxImage, hostPlatform } from "../helpers/busybox-layout.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { buildImage, buildTar, sha256, writeOciLayout, type Layer } from "../helpers/images.ts";

let work: string;
let base: string;

const strata = (args: readonly string[]) =>
  runStrata(args, { HOME: join(work, "home"), STRATA_DATA_DIR: join(work, "data"), SOURCE_DATE_EPOCH: "0" });

const CUT_MESSAGE = /the archive ends inside the data of "big" \(600000 of 1048576 bytes\)/;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-cut-layer-"));
  const busybox = await buildBusyboxImage();
  const whole = await buildTar([{ name: "big", type: "file", content: Buffer.alloc(1024 * 1024, 7) }]);
  const tar = whole.subarray(0, 512 + 600_000);
  const blob = gzipSync(tar);
  const cut: Layer = { tar, blob, digest: sha256(blob), diffId: sha256(tar) };
  const image = buildImage({
    layers: [...busybox.layers, cut],
    platform: hostPlatform(),
    execution: { Env: ["PATH=/bin"] },
  });
  await writeOciLayout(join(work, "base"), [image], { tags: ["cut"] });
  base = `oci-layout:${join(work, "base")}:cut`;
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("a layer cut inside a file's data", () => {
  it("fails the build with where the layer ends, and writes no image", async () => {
    await mkdir(join(work, "ctx"));
    await writeFile(join(work, "ctx/Containerfile"), `FROM ${base}\nRUN echo never > /never\n`);
    const out = join(work, "out");
    const result = await strata(["build", "-t", `oci-layout:${out}:v1`, join(work, "ctx")]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Containerfile:1: refusing layer oci-layout:.*:cut layer 4: /);
    assert.match(result.stderr, CUT_MESSAGE);
    assert.equal(existsSync(out), false);
  });

  it("fails strata run with where the layer ends, leaving no unpacked layer, container or mount", async () => {
    const result = await strata(["run", base, "--", "true"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /refusing layer layer 4: /);
    assert.match(result.stderr, CUT_MESSAGE);
    // The three whole layers below it are unpacked and kept for reuse; nothing else.
    assert.equal((await readdir(join(work, "data/layers"))).length, 3);
    assert.deepEqual(await readdir(join(work, "data/containers")).catch(() => []), []);
    const mounts = (await readFile("/proc/self/mountinfo", "utf8"))
      .split("\n")
      .filter((l) => l.includes(work));
    assert.deepEqual(mounts, []);
  });
});
