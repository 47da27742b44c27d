// Unpacking layers: whiteouts and opaque directories applied, and every hostile layer refused
// with a clear error while nothing outside the root is touched.
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { BuildError } from "../errors.ts";
import { extractLayer } from "./extract.ts";

interface E {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "character-device";
  content?: string;
  linkname?: string;
  mode?: number;
}

async function tarOf(entries: readonly E[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? "file";
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      const header = {
        name: e.name,
        type,
        mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
        ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
      };
      if (type === "file") p.entry(header, Buffer.from(e.content ?? ""), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

let work: string;
let n = 0;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-extract-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh root next to an `outside` folder with a sentinel file, and the layer written as a blob. */
async function setup(entries: readonly E[], gzip = true) {
  const dir = join(work, `case-${++n}`);
  const root = join(dir, "root");
  const outside = join(dir, "outside");
  await mkdir(root, { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, "sentinel"), "untouched");
  const blob = join(dir, "layer");
  const tar = await tarOf(entries);
  await writeFile(blob, gzip ? gzipSync(tar) : tar);
  return { root, outside, blob };
}

async function outsideUntouched(outside: string): Promise<void> {
  assert.deepEqual(await readdir(outside), ["sentinel"]);
  assert.equal(await readFile(join(outside, "sentinel"), "utf8"), "untouched");
}

describe("extractLayer", () => {
  it("unpacks files, links, and applies whiteouts and opaque directories", async () => {
    const { root, blob } = await setup([
      { name: "etc/", type: "directory" },
      { name: "etc/a", content: "a" },
      { name: "etc/b", content: "b" },
      { name: "etc/c", type: "link", linkname: "etc/a" },
      { name: "link", type: "symlink", linkname: "/etc/a" },
      { name: "keep/", type: "directory" },
      { name: "keep/x", content: "x" },
      { name: "opaque/old", content: "old" },
    ]);
    await extractLayer(blob, root);
    assert.equal(await readlink(join(root, "link")), "/etc/a");
    assert.equal((await lstat(join(root, "etc/c"))).ino, (await lstat(join(root, "etc/a"))).ino);
    const upper = await setup([
      { name: "etc/.wh.b" },
      { name: "opaque/.wh..wh..opq" },
      { name: "opaque/new", content: "new" },
      { name: "keep/x", content: "x2" },
    ]);
    await extractLayer(upper.blob, root);
    assert.deepEqual((await readdir(join(root, "etc"))).sort(), ["a", "c"]);
    assert.deepEqual(await readdir(join(root, "opaque")), ["new"]);
    assert.equal(await readFile(join(root, "keep/x"), "utf8"), "x2");
  });

  it("reads uncompressed layers too", async () => {
    const { root, blob } = await setup([{ name: "plain", content: "tar" }], false);
    await extractLayer(blob, root);
    assert.equal(await readFile(join(root, "plain"), "utf8"), "tar");
  });

  const hostile: [string, E[], RegExp][] = [
    ["an absolute path", [{ name: "/etc/passwd", content: "x" }], /absolute path "\/etc\/passwd"/],
    ["a .. path", [{ name: "a/../../outside/sentinel", content: "x" }], /path with "\.\."/],
    [
      "a hard link out of the root",
      [{ name: "h", type: "link", linkname: "../outside/sentinel" }],
      /hard link "h" has a bad target: path with "\.\."/,
    ],
    [
      "an absolute hard link",
      [{ name: "h", type: "link", linkname: "/etc/passwd" }],
      /hard link "h" has a bad target: absolute path/,
    ],
    [
      "a symlinked parent directory",
      [
        { name: "escape", type: "symlink", linkname: "../outside" },
        { name: "escape/sentinel", content: "overwritten" },
      ],
      /"escape\/sentinel" goes through the symlink "escape"/,
    ],
    [
      "a whiteout through a symlink",
      [{ name: "escape", type: "symlink", linkname: "../outside" }, { name: "escape/.wh.sentinel" }],
      /goes through the symlink "escape"/,
    ],
    [
      "a hard link through a symlink",
      [
        { name: "escape", type: "symlink", linkname: "../outside" },
        { name: "h", type: "link", linkname: "escape/sentinel" },
      ],
      /goes through the symlink "escape"/,
    ],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses ${what} and writes nothing outside the root`, async () => {
      const { root, outside, blob } = await setup(entries);
      await assert.rejects(
        extractLayer(blob, root, { name: "L" }),
        (e: unknown) =>
          e instanceof BuildError && /^refusing layer L: /.test(e.message) && message.test(e.message),
      );
      await outsideUntouched(outside);
    });
  }

  it("refuses a gzip bomb before it fills the disk", async () => {
    const dir = join(work, "bomb");
    await mkdir(join(dir, "root"), { recursive: true });
    const big = await tarOf([{ name: "zeros", content: "\0".repeat(8 * 1024 * 1024) }]);
    const blob = join(dir, "layer");
    await writeFile(blob, gzipSync(big, { level: 9 }));
    assert.ok((await lstat(blob)).size < 64 * 1024, "a small blob");
    await assert.rejects(
      extractLayer(blob, join(dir, "root"), { maxBytes: 1024 * 1024, name: "bomb" }),
      /refusing layer bomb: more than 1048576 bytes uncompressed/,
    );
  });

  it("refuses too many entries and garbage", async () => {
    const { root, blob } = await setup(
      Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: "x" })),
    );
    await assert.rejects(extractLayer(blob, root, { maxEntries: 10, name: "many" }), /more than 10 entries/);
    const junk = join(work, "junk");
    await writeFile(junk, gzipSync(Buffer.from("this is not a tar archive".repeat(40))));
    await mkdir(join(work, "junk-root"));
    await assert.rejects(
      extractLayer(junk, join(work, "junk-root"), { name: "junk" }),
      /refusing layer junk: /,
    );
    await writeFile(junk, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    await assert.rejects(
      extractLayer(junk, join(work, "junk-root"), { name: "junk" }),
      /refusing layer junk: /,
    );
  });

  it("skips device files", async () => {
    const { root, blob } = await setup([
      { name: "dev/null", type: "character-device" },
      { name: "ok", content: "y" },
    ]);
    const result = await extractLayer(blob, root);
    assert.equal(result.skippedDevices, 1);
    assert.equal(await readFile(join(root, "ok"), "utf8"), "y");
  });

  it("does not follow a symlink when a file replaces it", async () => {
    const { root, outside, blob } = await setup([{ name: "target", content: "new content" }]);
    await symlink(join(outside, "sentinel"), join(root, "target"));
    await extractLayer(blob, root);
    assert.equal(await readFile(join(root, "target"), "utf8"), "new content");
    assert.equal((await lstat(join(root, "target"))).isSymbolicLink(), false);
    await outsideUntouched(outside);
  });
});
