// The layer cache: a rebuild with nothing changed reuses every layer (and gives the same digest);
// a change in the last step's input rebuilds only that step; a build arg a RUN sees rebuilds
// from that RUN on; a damaged cache entry is a miss, never a wrong layer.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import {
  build,
  buildWorkDir,
  createLayerCache,
  parseContainerfile,
  serialize,
} from "../../src/builder/index.ts";

let work: string;
let context: string;
let cacheDir: string;

async function buildOnce(buildArgs: Record<string, string> = {}) {
  const scratch = await buildWorkDir();
  const steps: string[] = [];
  try {
    const containerfile = parseContainerfile(
      [
        "FROM oci-layout:base:busybox",
        "ARG CHANNEL=stable",
        "WORKDIR /srv",
        "COPY config.txt ./",
        'RUN echo "channel $CHANNEL" > /srv/channel',
        "COPY app.sh ./",
        'CMD ["/bin/sh", "/srv/app.sh"]',
      ].join("\n"),
    );
    const result = await build({
      containerfile,
      context,
      buildArgs,
      epoch: 1_700_000_000,
      workDir: scratch.path,
      cache: createLayerCache(cacheDir),
      progress: (line) => steps.push(line),
    });
    const unpacked = (await readdir(scratch.path)).filter((n) => n.startsWith("stage-"));
    return { ...result, digest: serialize(result.image).manifestDigest, steps, unpacked };
  } finally {
    await scratch.remove();
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-cache-"));
  context = join(work, "ctx");
  cacheDir = join(work, "cache");
  await mkdir(context);
  await buildBusyboxBase(join(context, "base"));
  await writeFile(join(context, "config.txt"), "a=1\n");
  await writeFile(join(context, "app.sh"), "cat /srv/config.txt /srv/channel\n");
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("layer cache", () => {
  let first: Awaited<ReturnType<typeof buildOnce>>;

  it("fills the cache on a first build", async () => {
    first = await buildOnce();
    assert.deepEqual([first.cached, first.built], [0, 3]);
  });

  it("reuses every layer when nothing changed, without unpacking anything", async () => {
    const again = await buildOnce();
    assert.deepEqual([again.cached, again.built], [3, 0]);
    assert.equal(again.digest, first.digest);
    assert.deepEqual(again.unpacked, [], "no root was unpacked");
    assert.equal(again.steps.filter((s) => s.includes("CACHED")).length, 3);
  });

  it("rebuilds only the last step when only its input changed", async () => {
    await writeFile(join(context, "app.sh"), "echo changed\n");
    const changed = await buildOnce();
    assert.deepEqual([changed.cached, changed.built], [2, 1]);
    assert.notEqual(changed.digest, first.digest);
    assert.deepEqual(
      changed.image.layers.slice(0, 3).map((l) => l.digest),
      first.image.layers.slice(0, 3).map((l) => l.digest),
    );
  });

  it("rebuilds from the RUN that sees a changed build arg", async () => {
    const other = await buildOnce({ CHANNEL: "beta" });
    assert.deepEqual([other.cached, other.built], [1, 2]);
  });

  it("treats a damaged cache blob as a miss and builds the same layer again", async () => {
    const blobs = join(cacheDir, "blobs", "sha256");
    for (const name of await readdir(blobs)) await truncate(join(blobs, name), 10);
    await writeFile(join(context, "app.sh"), "cat /srv/config.txt /srv/channel\n");
    const rebuilt = await buildOnce();
    assert.deepEqual([rebuilt.cached, rebuilt.built], [0, 3]);
    assert.equal(rebuilt.digest, first.digest, "the same inputs give the same image again");
    const repaired = await buildOnce();
    assert.deepEqual([repaired.cached, repaired.built], [3, 0], "the cache is whole again");
  });
});
