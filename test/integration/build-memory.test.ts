// Memory stays bounded on huge content: a build on a base whose layer holds a 1 GiB file, with a
// RUN step (so the base is unpacked and the root snapshotted) and a COPY of a 256 MiB file (so a
// big layer is written), keeps the builder's peak RSS far below the sizes involved. The build runs
// in its own process, which reports its own peak (runc's processes are not counted).
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { appendLayer, readImageFromLayout, writeImageToLayout } from "../../src/builder/index.ts";
import { MediaType } from "../../src/oci/index.ts";
import { runOk } from "../helpers/exec.ts";

const GiB = 1024 ** 3;
const LIMIT_MIB = 320;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-memory-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("memory on huge layers", () => {
  it("builds on a 1 GiB layer and copies a 256 MiB file with a bounded peak RSS", async (t) => {
    // The base: busybox plus a layer with a 1 GiB file (zeros, made by tar and gzip -1).
    await buildBusyboxBase(join(work, "busybox"));
    const content = join(work, "content");
    await mkdir(content);
    await truncate(await writeFile(join(content, "huge.bin"), "").then(() => join(content, "huge.bin")), GiB);
    const blob = join(work, "huge.tar.gz");
    await runOk(
      "bash",
      [
        "-c",
        `set -o pipefail; tar --numeric-owner --owner=0 --group=0 -C '${content}' -cf - huge.bin | tee >(sha256sum | cut -c1-64 > '${work}/diffid') | gzip -1 > '${blob}'`,
      ],
      { timeoutMs: 120_000 },
    );
    await rm(content, { recursive: true });
    const diffId = `sha256:${(await readFile(join(work, "diffid"), "utf8")).trim()}`;
    const digest = `sha256:${(await runOk("sha256sum", [blob])).stdout.slice(0, 64)}`;
    const busybox = await readImageFromLayout(join(work, "busybox"), "busybox");
    const base = appendLayer(
      { config: busybox.config, layers: busybox.layers },
      { digest, diffId, size: (await stat(blob)).size, mediaType: MediaType.ImageLayerGzip, path: blob },
      { created_by: "huge" },
    );
    const ctx = join(work, "ctx");
    await mkdir(ctx);
    await writeImageToLayout(join(ctx, "base"), base, "huge");
    await rm(blob);
    await truncate(
      await writeFile(join(ctx, "big.bin"), "").then(() => join(ctx, "big.bin")),
      256 * 1024 ** 2,
    );
    await writeFile(
      join(ctx, "Containerfile"),
      "FROM oci-layout:base:huge\nRUN wc -c /huge.bin > /size && rm /huge.bin\nCOPY big.bin /big.bin\n",
    );
    await writeFile(
      join(work, "measure.mts"),
      [
        `import { runCli } from ${JSON.stringify(resolve("src/cli/run-cli.ts"))};`,
        "const code = await runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });",
        "process.stderr.write(`maxRSS ${process.resourceUsage().maxRSS}\\n`);",
        "process.exitCode = code;",
        "",
      ].join("\n"),
    );
    const result = await runOk(
      resolve("node_modules/.bin/tsx"),
      [
        join(work, "measure.mts"),
        "build",
        "--no-cache",
        "--json",
        "-t",
        `oci-layout:${join(work, "out")}:x`,
        ctx,
      ],
      { timeoutMs: 300_000 },
    );
    const summary = JSON.parse(result.stdout) as { layers: { size: number }[] };
    assert.equal(summary.layers.length, 4, "busybox, huge, RUN, COPY");
    const peakMiB = Number(/maxRSS (\d+)/.exec(result.stderr)?.[1]) / 1024;
    assert.ok(peakMiB > 0, result.stderr);
    t.diagnostic(`peak RSS ${peakMiB.toFixed(0)} MiB`);
    assert.ok(
      peakMiB < LIMIT_MIB,
      `peak RSS ${peakMiB.toFixed(0)} MiB for a 1 GiB base layer and a 256 MiB COPY (limit ${LIMIT_MIB} MiB)`,
    );
    // The RUN saw the whole file and its deletion is a whiteout in the RUN layer.
    const unpacked = join(work, "bundle");
    await runOk("umoci", ["unpack", "--image", `${join(work, "out")}:x`, unpacked], { timeoutMs: 120_000 });
    assert.match(await readFile(join(unpacked, "rootfs/size"), "utf8"), new RegExp(`^${GiB} /huge.bin`));
    await assert.rejects(stat(join(unpacked, "rootfs/huge.bin")), { code: "ENOENT" });
    assert.equal((await stat(join(unpacked, "rootfs/big.bin"))).size, 256 * 1024 ** 2);
  });
});
