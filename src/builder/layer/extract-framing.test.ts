// Layers as umoci writes them: an entry for the root itself (`/`, `./`, `.`) and a tar stream that
// stops right after its last entry's data. Both are read; a stream cut inside a header or inside
// data is still refused with an error that says where, leaving no partial file.
import assert from "node:assert/strict";
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { pack, type Header } from "tar-stream";
import { BuildError } from "../errors.ts";
import { extractLayer } from "./extract.ts";

type Entry = Partial<Header> & { name: string; content?: string };

/** The tar bytes of `entries`, and for each entry the offset where its data ends. */
async function tarOf(entries: readonly Entry[]): Promise<{ tar: Buffer; dataEnds: number[] }> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content !== undefined) p.entry(header, Buffer.from(content), cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  const dataEnds: number[] = [];
  for (let at = 0; at < tar.length && tar[at] !== 0;) {
    const size = Number.parseInt(tar.toString("latin1", at + 124, at + 135), 8);
    if (tar[at + 156] !== "x".charCodeAt(0)) dataEnds.push(at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return { tar, dataEnds };
}

let work: string;
let n = 0;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-framing-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh root (mode 0755) beside an `outside` folder, and the layer bytes written as a blob. */
async function setup(bytes: Buffer) {
  const dir = join(work, `case-${++n}`);
  const root = join(dir, "root");
  const outside = join(dir, "outside");
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  await mkdir(outside);
  await writeFile(join(outside, "sentinel"), "untouched");
  const blob = join(dir, "layer");
  await writeFile(blob, bytes);
  return { root, outside, blob };
}

async function outsideUntouched(outside: string): Promise<void> {
  assert.deepEqual(await readdir(outside), ["sentinel"]);
  assert.equal(await readFile(join(outside, "sentinel"), "utf8"), "untouched");
}

const modeOf = async (path: string) => (await stat(path)).mode & 0o7777;

describe("extractLayer: entries for the root itself", () => {
  for (const name of ["/", "./", "."]) {
    it(`gives the root the mode of an entry named "${name}"`, async () => {
      const { tar } = await tarOf([
        { name, type: "directory", mode: 0o750 },
        { name: "bin/", type: "directory", mode: 0o755 },
        { name: "bin/tool", content: "#!/bin/sh\n", mode: 0o755 },
      ]);
      const { root, blob } = await setup(gzipSync(tar));
      await extractLayer(blob, root, { name: "L" });
      assert.equal(await modeOf(root), 0o750);
      assert.equal(await readFile(join(root, "bin/tool"), "utf8"), "#!/bin/sh\n");
      assert.deepEqual(await readdir(root), ["bin"]);
    });
  }

  it("applies a read-only root's mode only after the rest is unpacked", async () => {
    const { tar } = await tarOf([
      { name: "/", type: "directory", mode: 0o555 },
      { name: "etc/", type: "directory", mode: 0o755 },
      { name: "etc/hostname", content: "box\n" },
    ]);
    const { root, blob } = await setup(gzipSync(tar));
    await extractLayer(blob, root, { name: "L" });
    assert.equal(await modeOf(root), 0o555);
    assert.equal(await readFile(join(root, "etc/hostname"), "utf8"), "box\n");
    await chmod(root, 0o755);
  });

  it("leaves the root as it is when told to ignore the root entry", async () => {
    const { tar } = await tarOf([
      { name: "./", type: "directory", mode: 0o700 },
      { name: "./a", content: "a" },
    ]);
    const { root, blob } = await setup(tar);
    await extractLayer(blob, root, { name: "L", rootEntry: "ignore" });
    assert.equal(await modeOf(root), 0o755);
    assert.equal(await readFile(join(root, "a"), "utf8"), "a");
  });

  const notDirectories: [string, Entry][] = [
    ["a symlink", { name: "/", type: "symlink", linkname: "../outside" }],
    ["a file", { name: "./", type: "file", content: "x" }],
  ];
  for (const [what, entry] of notDirectories) {
    it(`refuses a root entry that is ${what}, changing nothing`, async () => {
      const { tar } = await tarOf([entry, { name: "sentinel", content: "overwritten" }]);
      const { root, outside, blob } = await setup(gzipSync(tar));
      await assert.rejects(
        extractLayer(blob, root, { name: "L" }),
        (e: unknown) =>
          e instanceof BuildError &&
          /^refusing layer L: entry "\.?\/" names the root but is a (symlink|file), not a directory$/.test(
            e.message,
          ),
      );
      assert.equal((await lstat(root)).isDirectory(), true);
      assert.equal(await modeOf(root), 0o755);
      assert.deepEqual(await readdir(root), []);
      await outsideUntouched(outside);
    });
  }

  it("still refuses every other absolute path", async () => {
    for (const name of ["/etc/passwd", "//etc/passwd", "/./etc/passwd", "/../outside/sentinel"]) {
      const { tar } = await tarOf([{ name, content: "x" }]);
      const { root, outside, blob } = await setup(gzipSync(tar));
      await assert.rejects(
        extractLayer(blob, root, { name: "L" }),
        /^BuildError: refusing layer L: absolute path/,
      );
      assert.deepEqual(await readdir(root), []);
      await outsideUntouched(outside);
    }
  });
});

describe("extractLayer: where the tar stream ends", () => {
  const files: Entry[] = [
    { name: "etc/", type: "directory", mode: 0o755 },
    { name: "etc/motd", content: "welcome\n" },
    { name: "data.bin", content: "0123456789".repeat(70) },
  ];

  for (const gzip of [true, false]) {
    const kind = gzip ? "gzip" : "plain";
    it(`reads a ${kind} layer that stops right after its last entry's data`, async () => {
      const { tar, dataEnds } = await tarOf(files);
      const end = dataEnds.at(-1) ?? 0;
      assert.notEqual(end % 512, 0, "the cut leaves the padding out");
      const cut = tar.subarray(0, end);
      const { root, blob } = await setup(gzip ? gzipSync(cut) : cut);
      const result = await extractLayer(blob, root, { name: "L" });
      assert.equal(result.entries, 3);
      assert.equal(await readFile(join(root, "etc/motd"), "utf8"), "welcome\n");
      assert.equal(await readFile(join(root, "data.bin"), "utf8"), "0123456789".repeat(70));
    });
  }

  it("reads a layer that stops after the padding, or after an entry without data", async () => {
    const { tar, dataEnds } = await tarOf([...files, { name: "empty/", type: "directory" }]);
    const padded = tar.subarray(0, Math.ceil((dataEnds[2] ?? 0) / 512) * 512);
    const first = await setup(gzipSync(padded));
    await extractLayer(first.blob, first.root, { name: "L" });
    assert.deepEqual((await readdir(first.root)).sort(), ["data.bin", "etc"]);
    const afterDirectory = await setup(gzipSync(tar.subarray(0, dataEnds[3])));
    await extractLayer(afterDirectory.blob, afterDirectory.root, { name: "L" });
    assert.deepEqual((await readdir(afterDirectory.root)).sort(), ["data.bin", "empty", "etc"]);
  });

  it("reads a long name (a pax header) in a layer that stops after the data", async () => {
    const long = `${"x".repeat(150)}.txt`;
    const { tar, dataEnds } = await tarOf([{ name: long, content: "long" }]);
    const { root, blob } = await setup(gzipSync(tar.subarray(0, dataEnds[0])));
    await extractLayer(blob, root, { name: "L" });
    assert.equal(await readFile(join(root, long), "utf8"), "long");
  });

  it("refuses a layer cut inside a header, naming where", async () => {
    const { tar, dataEnds } = await tarOf(files);
    const start = Math.ceil((dataEnds[1] ?? 0) / 512) * 512;
    const { root, outside, blob } = await setup(gzipSync(tar.subarray(0, start + 100)));
    await assert.rejects(
      extractLayer(blob, root, { name: "L" }),
      (e: unknown) =>
        e instanceof BuildError &&
        e.message ===
          `refusing layer L: the archive ends inside a header after "etc/motd" (100 of 512 bytes)`,
    );
    assert.equal((await lstat(join(root, "data.bin")).catch(() => undefined)) === undefined, true);
    await outsideUntouched(outside);
  });

  it("refuses a layer cut inside an entry's data and leaves no partial file", async () => {
    // Large enough that the file is being written when the stream ends.
    const big = "0123456789abcdef".repeat(128 * 1024);
    const { tar, dataEnds } = await tarOf([
      { name: "etc/motd", content: "welcome\n" },
      { name: "big", content: big },
    ]);
    const cut = (dataEnds[1] ?? 0) - 512 * 1024;
    const { root, outside, blob } = await setup(gzipSync(tar.subarray(0, cut)));
    await assert.rejects(
      extractLayer(blob, root, { name: "L" }),
      (e: unknown) =>
        e instanceof BuildError &&
        e.message ===
          `refusing layer L: the archive ends inside the data of "big" (1572864 of 2097152 bytes)`,
    );
    assert.deepEqual(await readdir(root), ["etc"]);
    await outsideUntouched(outside);
  });

  it("refuses a layer cut between an extended header and its entry", async () => {
    const long = `${"y".repeat(150)}.txt`;
    const { tar } = await tarOf([
      { name: "a", content: "a" },
      { name: long, content: "long" },
    ]);
    // Entry "a": header and padded data (1024 bytes); then the pax header and its data.
    const paxEnd = 1024 + 512 + 512;
    const { root, outside, blob } = await setup(gzipSync(tar.subarray(0, paxEnd)));
    await assert.rejects(
      extractLayer(blob, root, { name: "L" }),
      /^BuildError: refusing layer L: the archive ends inside the extended header of entry 2$/,
    );
    assert.deepEqual(await readdir(root), ["a"]);
    await outsideUntouched(outside);
  });

  it("refuses a gzip stream that is itself cut", async () => {
    const { tar } = await tarOf(files);
    const gz = gzipSync(tar);
    const { root, outside, blob } = await setup(gz.subarray(0, gz.length - 20));
    await assert.rejects(extractLayer(blob, root, { name: "L" }), /^BuildError: refusing layer L: /);
    await outsideUntouched(outside);
  });
});
