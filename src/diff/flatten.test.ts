import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { pack, type Header } from "tar-stream";
import { DiffError } from "./errors.ts";
import { diffFiles } from "./files.ts";
import { flattenImage, flattenPair } from "./flatten.ts";
import type { LayerSource } from "./layer-reader.ts";

type TarEntry = {
  name: string;
  content?: string;
  type?: Header["type"];
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
};

async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of tar) chunks.push(c as Buffer);
  })();
  for (const { content, ...header } of entries)
    await new Promise<void>((resolve, reject) => {
      const h = {
        type: "file" as const,
        mode: header.type === "directory" ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        mtime: new Date(0),
        ...header,
      };
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content !== undefined) tar.entry({ ...h, size: Buffer.byteLength(content) }, content, cb);
      else tar.entry(h, cb);
    });
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Opens counted, so a test can tell which layers were read. */
function layerOf(bytes: Buffer, opened: string[] = [], id?: string): LayerSource {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  return {
    digest,
    ...(id === undefined ? {} : { diffId: id }),
    open: () => {
      opened.push(digest);
      return Promise.resolve(Readable.from([bytes]));
    },
  };
}

const gz = async (entries: readonly TarEntry[]) => gzipSync(await tarOf(entries));
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("flattening layers", () => {
  it("applies whiteouts, opaque directories and type changes in layer order", async () => {
    const base = await gz([
      { name: "etc/", type: "directory" },
      { name: "etc/keep", content: "keep" },
      { name: "etc/gone", content: "gone" },
      { name: "data/", type: "directory" },
      { name: "data/a", content: "a" },
      { name: "data/sub/", type: "directory" },
      { name: "data/sub/b", content: "b" },
      { name: "was-dir/", type: "directory" },
      { name: "was-dir/child", content: "c" },
    ]);
    const upper = await tarOf([
      { name: "etc/.wh.gone", content: "" },
      { name: "data/.wh..wh..opq", content: "" },
      { name: "data/new", content: "new" },
      { name: "was-dir", content: "now a file" },
      { name: "deep/er/file", content: "implicit parents" },
    ]);
    const tree = await flattenImage([layerOf(base), layerOf(upper)], "test");
    assert.deepEqual([...tree.paths()].sort(), [
      "data",
      "data/new",
      "deep",
      "deep/er",
      "deep/er/file",
      "etc",
      "etc/keep",
      "was-dir",
    ]);
    assert.equal(tree.get("was-dir")?.type, "file");
    assert.equal(tree.get("data/new")?.sha256, sha("new"));
    assert.deepEqual(tree.get("deep"), { type: "dir", size: 0, mode: 0o755, uid: 0, gid: 0 });
  });

  it("keeps a whiteout's own layer's entries and reads hard links with their target's content", async () => {
    const one = await gz([{ name: "x", content: "lower" }]);
    const two = await gz([
      { name: "x", content: "same layer" },
      { name: ".wh.x", content: "" },
      { name: "bin/", type: "directory" },
      { name: "bin/tool", content: "#!tool", mode: 0o4755, uid: 0, gid: 50 },
      { name: "bin/alias", type: "link", linkname: "bin/tool", mode: 0o4755 },
      { name: "bin/sym", type: "symlink", linkname: "tool" },
      { name: "dev/", type: "directory" },
      { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
      { name: "run/fifo", type: "fifo" },
    ]);
    const tree = await flattenImage([layerOf(one), layerOf(two)], "test");
    assert.equal(tree.get("x")?.sha256, sha("same layer"));
    assert.deepEqual(tree.get("bin/alias"), {
      type: "hardlink",
      size: 6,
      mode: 0o4755,
      uid: 0,
      gid: 0,
      sha256: sha("#!tool"),
      linkTarget: "bin/tool",
    });
    assert.equal(tree.get("bin/tool")?.gid, 50);
    assert.equal(tree.get("bin/sym")?.linkTarget, "tool");
    assert.equal(tree.get("dev/null")?.device, "1:3");
    assert.equal(tree.get("run/fifo")?.type, "fifo");
  });

  it("reads zstd layers through zstd(1)", async () => {
    const tar = await tarOf([{ name: "z", content: "zstd content" }]);
    const zst = execFileSync("zstd", ["-c", "-q"], { input: tar });
    const tree = await flattenImage([layerOf(zst)], "test");
    assert.equal(tree.get("z")?.sha256, sha("zstd content"));
  });

  it("reads shared bottom layers once, only for what upper layers touch", async () => {
    const opened: string[] = [];
    const shared = layerOf(
      await gz([
        { name: "etc/", type: "directory" },
        { name: "etc/conf", content: "v1" },
        { name: "etc/other", content: "same" },
        { name: "usr/", type: "directory" },
        { name: "usr/big", content: "x".repeat(1000) },
      ]),
      opened,
      "sha256:shared",
    );
    // The newer image's own layer rewrites a file of the shared layer with other content, and
    // another with the same content: only the first is a change.
    const upperA = layerOf(await gz([{ name: "a-only", content: "a" }]), opened);
    const upperB = layerOf(
      await gz([
        { name: "etc/conf", content: "v2" },
        { name: "etc/other", content: "same" },
      ]),
      opened,
    );
    const pair = await flattenPair(
      { name: "A", layers: [shared, upperA] },
      { name: "B", layers: [shared, upperB] },
    );
    assert.equal(pair.sharedLayers, 1);
    assert.equal(opened.filter((d) => d === shared.digest).length, 1);
    // usr/big lies outside every touched path: neither hashed nor kept.
    assert.equal(pair.before.get("usr/big"), undefined);
    const diff = diffFiles(pair.before, pair.after);
    assert.deepEqual(
      diff.changed.map((c) => [c.path, c.changes]),
      [["/etc/conf", ["content"]]],
    );
    assert.deepEqual(
      diff.removed.map((r) => r.path),
      ["/a-only"],
    );
    assert.deepEqual(diff.totals.removed, { count: 1, bytes: 1 });
  });

  it("reads nothing when both images have the same layers", async () => {
    const opened: string[] = [];
    const layer = layerOf(await gz([{ name: "f", content: "f" }]), opened, "sha256:same");
    const pair = await flattenPair({ name: "A", layers: [layer] }, { name: "B", layers: [layer] });
    assert.deepEqual(opened, []);
    assert.equal(diffFiles(pair.before, pair.after).totals.changed.count, 0);
  });

  it("refuses corrupt, truncated and hostile layers with the layer's name", async () => {
    const good = await gz([{ name: "file", content: "x".repeat(5000) }]);
    const corrupt = Buffer.from(good);
    corrupt.writeUInt8((corrupt.readUInt8(corrupt.length - 12) ^ 0xff) & 0xff, corrupt.length - 12);
    const cases: [string, Buffer, RegExp][] = [
      ["corrupt gzip", corrupt, /Cannot read layer 1 of bad \(sha256:[0-9a-f]{64}\): .+/],
      ["truncated", good.subarray(0, good.length / 2), /Cannot read layer 1 of bad/],
      [
        "absolute path",
        await tarOf([{ name: "/etc/passwd", content: "x" }]),
        /absolute path "\/etc\/passwd"/,
      ],
      ["dot-dot", await tarOf([{ name: "a/../../x", content: "x" }]), /path with "\.\."/],
      ["bad whiteout", await tarOf([{ name: "a/.wh.", content: "" }]), /invalid whiteout "a\/\.wh\."/],
    ];
    for (const [what, bytes, message] of cases)
      await assert.rejects(
        flattenImage([layerOf(bytes)], "bad"),
        (error: unknown) =>
          error instanceof DiffError && error.code === "BAD_LAYER" && message.test(error.message),
        what,
      );
  });

  it("caps entries and uncompressed bytes", async () => {
    const many = await gz(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: "" })));
    await assert.rejects(flattenImage([layerOf(many)], "big", { maxEntries: 10 }), /more than 10 entries/);
    const large = await gz([{ name: "f", content: "x".repeat(100_000) }]);
    await assert.rejects(
      flattenImage([layerOf(large)], "big", { maxBytes: 50_000 }),
      /more than 50000 bytes uncompressed/,
    );
  });
});
