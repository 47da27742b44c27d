// The newc writer, checked against GNU cpio (Debian's cpio package): what it writes lists and
// unpacks with the names, contents, modes and times given, and bad entries are refused.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeNewc, type CpioEntry } from "./iso-cpio.ts";
import { DiskError } from "./errors.ts";

function cpio(args: string[], input: Buffer, cwd: string): string {
  const result = spawnSync("cpio", args, { input, cwd, encoding: "buffer" });
  assert.equal(result.error, undefined, "cpio is needed (apt-get install cpio)");
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout.toString();
}

const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

// Names and sizes of every remainder modulo 4, so each padding case is written.
const ENTRIES: CpioEntry[] = [
  { kind: "dir", path: "scripts" },
  { kind: "file", path: "scripts/strata-live", data: Buffer.from("#!/bin/sh\necho hi\n"), mode: 0o755 },
  { kind: "dir", path: "a", mode: 0o700 },
  { kind: "file", path: "a/b", data: bytes(1, 1) },
  { kind: "file", path: "a/cc", data: bytes(2, 2) },
  { kind: "file", path: "a/ddd", data: bytes(3, 3) },
  { kind: "file", path: "a/eeee", data: bytes(4, 4) },
  { kind: "file", path: "a/empty", data: new Uint8Array() },
  { kind: "file", path: "a/big", data: bytes(70001, 5), mode: 0o600 },
  { kind: "symlink", path: "a/link", target: "../scripts/strata-live" },
];

describe("writeNewc", () => {
  it("writes an archive GNU cpio lists and unpacks with the same names, contents, modes and times", async () => {
    const archive = writeNewc(ENTRIES, { mtime: 1700000000 });
    const dir = await mkdtemp(join(tmpdir(), "strata-cpio-"));
    try {
      const listed = cpio(["-t", "--quiet"], archive, dir).trim().split("\n");
      assert.deepEqual(
        listed,
        ENTRIES.map((e) => e.path),
      );
      cpio(["-i", "-d", "--quiet", "--no-absolute-filenames", "--preserve-modification-time"], archive, dir);
      for (const entry of ENTRIES) {
        const path = join(dir, entry.path);
        if (entry.kind === "file") {
          assert.deepEqual(await readFile(path), Buffer.from(entry.data), entry.path);
          const info = await stat(path);
          assert.equal(info.mode & 0o7777, entry.mode ?? 0o644, entry.path);
          assert.equal(info.mtimeMs, 1700000000 * 1000, entry.path);
        } else if (entry.kind === "symlink") {
          assert.equal(await readlink(path), entry.target);
        } else {
          assert.ok((await stat(path)).isDirectory());
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives the same bytes for the same entries, with inode numbers 1, 2, … and the trailer last", () => {
    const a = writeNewc(ENTRIES, { mtime: 5 });
    assert.deepEqual(a, writeNewc(ENTRIES, { mtime: 5 }));
    assert.equal(a.length % 4, 0);
    assert.equal(a.subarray(0, 14).toString("ascii"), "07070100000001");
    assert.ok(a.includes(Buffer.from("TRAILER!!!\0")));
    assert.notDeepEqual(a, writeNewc(ENTRIES, { mtime: 6 }));
  });

  it("drops a leading slash as cpio does", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-cpio-"));
    try {
      const archive = writeNewc([{ kind: "file", path: "/top", data: Buffer.from("x") }]);
      assert.equal(cpio(["-t", "--quiet"], archive, dir).trim(), "top");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses paths that climb, repeat or are empty, and modes and times out of range", () => {
    const bad: [CpioEntry[], number?][] = [
      [[{ kind: "file", path: "../etc/passwd", data: Buffer.from("x") }]],
      [[{ kind: "file", path: "a/./b", data: Buffer.from("x") }]],
      [[{ kind: "dir", path: "" }]],
      [[{ kind: "dir", path: "a//b" }]],
      [[{ kind: "dir", path: "TRAILER!!!" }]],
      [
        [
          { kind: "dir", path: "a" },
          { kind: "dir", path: "/a" },
        ],
      ],
      [[{ kind: "file", path: "a", data: Buffer.from("x"), mode: 0o10000 }]],
      [[{ kind: "dir", path: "a" }], -1],
      [[{ kind: "dir", path: "a" }], 2 ** 32],
    ];
    for (const [entries, mtime] of bad) {
      assert.throws(
        () => writeNewc(entries, mtime === undefined ? {} : { mtime }),
        (e: unknown) => e instanceof DiskError && e.code === "USAGE",
        JSON.stringify(entries),
      );
    }
  });
});
