// Boot tests in QEMU. A guest that never gets ready fails with the serial tail and leaves the
// disk and the work folder as they were; that runs on a boot sector in seconds. A real disk
// (Debian with GRUB on the serial console and initramfs-tools, as Strata builds them) boots
// with gates inside the guest when STRATA_TEST_VM_DISK names one.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { assertGatesPassed, bootTest, VmError, type VmDiskFormat } from "../../src/vm/index.ts";
import { HELLO, writeHelloDisk } from "./vm-fixtures.ts";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-vm-boot-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

test("a guest that never gets ready: NOT_READY with the serial tail, disk and work folder untouched", async () => {
  const disk = join(dir, "hello.raw");
  await writeHelloDisk(disk);
  const work = await mkdtemp(join(dir, "work-"));
  const before = await sha256(disk);
  await assert.rejects(
    bootTest(
      { path: disk, format: "raw" },
      { boot: "bios", accel: "tcg", gates: [], readyTimeout: 3, workDir: work },
    ),
    (e: unknown) =>
      e instanceof VmError &&
      e.code === "NOT_READY" &&
      /no GRUB menu/.test(e.message) &&
      e.serialTail.includes(HELLO),
  );
  assert.equal(await sha256(disk), before);
  assert.deepEqual(await readdir(work), [], "the overlay and gate log are removed");
});

test("malformed gates are refused before QEMU starts", async () => {
  await assert.rejects(
    bootTest(
      { path: join(dir, "none.raw"), format: "raw" },
      { boot: "bios", accel: "tcg", gates: [{ name: "x" }] },
    ),
    (e: unknown) => e instanceof VmError && e.code === "USAGE",
  );
});

const realDisk = process.env["STRATA_TEST_VM_DISK"];

/** The disk's format as qemu-img reads it from the header (vhd is qemu-img's "vpc"). */
function formatOf(path: string): VmDiskFormat {
  const out = execFileSync("qemu-img", ["info", "--output=json", path], { encoding: "utf8" });
  const format = (JSON.parse(out) as { format: string }).format;
  return (format === "vpc" ? "vhd" : format) as VmDiskFormat;
}

test(
  "a real disk boots on an overlay, its gates run inside the guest, and its bytes do not change",
  {
    skip:
      realDisk === undefined
        ? "STRATA_TEST_VM_DISK is not set: point it at a bootable disk Strata built (STRATA_TEST_VM_BOOT=uefi for UEFI)"
        : false,
    timeout: 600_000,
  },
  async () => {
    const path = realDisk ?? "";
    const before = await sha256(path);
    const work = await mkdtemp(join(dir, "work-"));
    const result = await bootTest(
      { path, format: path.endsWith(".iso") ? "iso" : formatOf(path) },
      {
        boot: process.env["STRATA_TEST_VM_BOOT"] === "uefi" ? "uefi" : "bios",
        workDir: work,
        readyTimeout: 240,
        gates: [
          { name: "os-release", command: "cat /etc/os-release", stdout: "ID=debian" },
          { name: "exit status", command: "echo out; echo err >&2; exit 7", exitCode: 7, stdout: "^out" },
          { name: "fstab", path: "/etc/fstab" },
          {
            name: "no test files on the root",
            path: "/etc/systemd/system/strata-gates.service",
            exists: false,
          },
          { name: "journald", service: "systemd-journald" },
          { name: "meant to fail", command: "test -e /nonexistent" },
        ],
      },
    );
    assert.ok(result.readySeconds > 0);
    assert.deepEqual(
      result.gates.map((g) => [g.name, g.ok]),
      [
        ["os-release", true],
        ["exit status", true],
        ["fstab", true],
        ["no test files on the root", true],
        ["journald", true],
        ["meant to fail", false],
      ],
    );
    assert.throws(
      () => assertGatesPassed(result),
      (e: unknown) => e instanceof VmError && e.code === "GATE_FAILED" && /"meant to fail"/.test(e.message),
    );
    assert.equal(await sha256(path), before, "the tested disk's bytes are unchanged");
    assert.deepEqual(await readdir(work), []);
  },
);
