// Two versions of a real ext4 disk (mke2fs -d, as disks are built) cut into chunks: when the
// versions share the seed their identifiers derive from, a one-file change leaves almost every
// chunk as it was; when each version gets identifiers of its own (a seed per image digest), the
// file system's metadata checksums change everywhere and most metadata chunks with them — the
// reason successive versions of a definition share a seed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chunkFile } from "../../src/disk/chunked/chunker.ts";
import { writeExt4 } from "../../src/disk/ext4.ts";
import { derivedUuid } from "../../src/disk/ids.ts";

const MIB = 2 ** 20;
const SIZE = 96 * MIB;

/** A tree of a few hundred files: binary-like, text and a couple of large ones. */
async function makeTree(root: string): Promise<void> {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let d = 0; d < 20; d++) {
    const dir = join(root, "usr", `lib${d}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < 15; f++) {
      const length = 2000 + (next() % 60_000);
      const text = f % 3 === 0;
      const bytes = text
        ? Buffer.from(Array.from({ length: length / 20 }, (_, i) => `line ${i} of ${d}/${f}\n`).join(""))
        : Buffer.concat([randomBytes(length / 2), Buffer.alloc(length / 2, d + f)]);
      await writeFile(join(dir, `file${f}`), bytes);
    }
  }
  await mkdir(join(root, "opt"), { recursive: true });
  await writeFile(join(root, "opt", "big.bin"), randomBytes(6 * MIB));
  await writeFile(join(root, "opt", "app.conf"), "listen 8080\n");
}

async function disk(tree: string, out: string, seed: string, scratch: string): Promise<Map<string, number>> {
  await writeFile(out, "");
  await truncate(out, SIZE);
  const uuid = derivedUuid(seed, "root-fs");
  await writeExt4(tree, {
    disk: out,
    offset: MIB,
    size: SIZE - 2 * MIB,
    uuid,
    label: "root",
    epoch: 0,
    inodes: 400,
    scratch,
  });
  const chunks = new Map<string, number>();
  for await (const extent of chunkFile(out))
    if (extent.kind === "chunk") chunks.set(extent.sha256, extent.length);
  return chunks;
}

/** Bytes of `b`'s chunks that `a` does not have. */
function newBytes(a: Map<string, number>, b: Map<string, number>): number {
  let bytes = 0;
  for (const [digest, length] of b) if (!a.has(digest)) bytes += length;
  return bytes;
}

describe("chunks shared by successive versions of a real ext4 disk", () => {
  let work: string;
  let v1: string;
  let v2: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "strata-chunk-versions-"));
    v1 = join(work, "v1");
    v2 = join(work, "v2");
    await makeTree(v1);
    await cp(v1, v2, { recursive: true, preserveTimestamps: true });
    await writeFile(join(v2, "opt", "app.conf"), "listen 9090\n");
  });
  after(() => rm(work, { recursive: true, force: true }));

  it("a one-file change leaves almost every chunk as it was when the seed is shared", async () => {
    const a = await disk(v1, join(work, "a.raw"), "prod/web-vm", work);
    const b = await disk(v2, join(work, "b.raw"), "prod/web-vm", work);
    const total = [...b.values()].reduce((s, n) => s + n, 0);
    const changed = newBytes(a, b);
    assert.ok(total > 8 * MIB, `the disk holds data (${total} bytes in chunks)`);
    assert.ok(changed > 0, "the change is seen");
    assert.ok(changed < total * 0.05, `${changed} of ${total} bytes are in new chunks`);
  });

  it("identifiers of its own per version make far more chunks new", async () => {
    const a = await disk(v1, join(work, "c.raw"), "sha256:1111", work);
    const b = await disk(v2, join(work, "d.raw"), "sha256:2222", work);
    const shared = await disk(v2, join(work, "e.raw"), "sha256:1111", work);
    assert.ok(
      newBytes(a, b) > 3 * newBytes(a, shared),
      `${newBytes(a, b)} vs ${newBytes(a, shared)} new bytes`,
    );
  });
});
