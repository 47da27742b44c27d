// Boot tests in QEMU. A guest that never gets ready fails with the serial tail and leaves the
// disk and the work folder as they were; that runs on a boot sector in seconds. A real disk
// (Debian with GRUB on the serial console and initramfs-tools, as Strata builds them) boots
// with gates inside the guest in vm-release.test.ts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bootTest, VmError } from "../../src/vm/index.ts";
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
