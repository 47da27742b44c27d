// The pure and local parts of the disk builder: layouts and partition scripts, derived
// identifiers, dumpe2fs parsing, what makes a root bootable, GRUB's configuration.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DiskError } from "./errors.ts";
import { fileSystemSize, usedInodes } from "./ext4.ts";
import { grubConfig } from "./generalize.ts";
import { derivedHex32, derivedUuid } from "./ids.ts";
import { ESP_SIZE, MiB, planLayout, sfdiskScript } from "./layout.ts";
import { findBootFiles } from "./root.ts";

const isCode = (code: string, text: RegExp) => (e: unknown) =>
  e instanceof DiskError && e.code === code && text.test(e.message);

describe("disk layouts", () => {
  it("puts the BIOS root at 1 MiB, and the UEFI ESP there with the root after it and room for GPT's backup", () => {
    const bios = planLayout("bios", 900 * MiB);
    assert.deepEqual(bios, { boot: "bios", size: 901 * MiB, root: { offset: MiB, size: 900 * MiB } });
    const uefi = planLayout("uefi", 900 * MiB);
    assert.deepEqual(uefi.esp, { offset: MiB, size: ESP_SIZE });
    assert.equal(uefi.root.offset, MiB + ESP_SIZE);
    assert.equal(uefi.size, MiB + ESP_SIZE + 900 * MiB + MiB);
  });

  it("fills --size, refusing one that is not whole MiB or leaves the root less than it needs", () => {
    assert.equal(planLayout("bios", 900 * MiB, 4096 * MiB, 700 * MiB).root.size, 4095 * MiB);
    assert.equal(planLayout("bios", 900 * MiB, 800 * MiB, 700 * MiB).root.size, 799 * MiB);
    assert.throws(
      () => planLayout("bios", 900 * MiB, 4096 * MiB + 512),
      isCode("USAGE", /whole number of MiB/),
    );
    assert.throws(
      () => planLayout("bios", 900 * MiB, 600 * MiB, 700 * MiB),
      isCode("USAGE", /at least 701 MiB/),
    );
  });

  it("writes sfdisk scripts with the identifiers given", () => {
    const bios = sfdiskScript(planLayout("bios", 10 * MiB), { diskId: "0a0b0c0d" });
    assert.match(bios, /^label: dos$/m);
    assert.match(bios, /^label-id: 0x0a0b0c0d$/m);
    assert.match(bios, /^start=2048, size=20480, type=83, bootable$/m);
    const ids = {
      diskId: derivedUuid("s", "d"),
      espPartUuid: derivedUuid("s", "e"),
      rootPartUuid: derivedUuid("s", "r"),
    };
    const gpt = sfdiskScript(planLayout("uefi", 10 * MiB), ids);
    assert.match(gpt, /^label: gpt$/m);
    assert.match(gpt, new RegExp(`type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=${ids.espPartUuid}`));
    assert.match(gpt, new RegExp(`type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=${ids.rootPartUuid}`));
  });

  it("sizes file systems with headroom by default and without for the minimum", () => {
    const usage = { bytes: 600 * MiB, inodes: 15_000 };
    assert.ok(fileSystemSize(usage) > fileSystemSize(usage, false));
    assert.ok(fileSystemSize(usage, false) >= 600 * MiB * 1.1);
    assert.equal(fileSystemSize(usage) % MiB, 0);
  });
});

describe("derived identifiers", () => {
  it("are the same for the same seed and purpose, differ otherwise, and look like UUIDs", () => {
    assert.equal(derivedUuid("sha256:aa", "root-fs"), derivedUuid("sha256:aa", "root-fs"));
    assert.notEqual(derivedUuid("sha256:aa", "root-fs"), derivedUuid("sha256:ab", "root-fs"));
    assert.notEqual(derivedUuid("sha256:aa", "root-fs"), derivedUuid("sha256:aa", "gpt-disk"));
    assert.match(
      derivedUuid("x", "y"),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.match(derivedHex32("x", "y"), /^[0-9a-f]{8}$/);
  });
});

describe("dumpe2fs free-inode ranges", () => {
  it("gives every inode not listed as free, group by group", () => {
    const text = [
      "Inodes per group:         8",
      "Group 0: (Blocks 0-32767) csum 0x14fe [ITABLE_ZEROED]",
      "  Primary superblock at 0, Group descriptors at 1-1",
      "  Free inodes: 6-8",
      "Group 1: (Blocks 32768-65535) csum 0x1f00 [ITABLE_ZEROED]",
      "  Free inodes: 9, 12-16",
      "Group 2: (Blocks 65536-98303) csum 0x2300 [INODE_UNINIT, ITABLE_ZEROED]",
      "  Free inodes: 17-24",
      "",
    ].join("\n");
    assert.deepEqual(usedInodes(text), [1, 2, 3, 4, 5, 10, 11]);
  });
});

describe("what makes a root bootable", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "strata-bootable-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("names what is missing, step by step, and finds the newest kernel with its initramfs, modules and init", async () => {
    await assert.rejects(findBootFiles(root), isCode("NOT_BOOTABLE", /no kernel: a bootable image needs/));
    await mkdir(join(root, "boot"));
    await writeFile(join(root, "boot/vmlinuz-6.1.0-9-amd64"), "old");
    await writeFile(join(root, "boot/vmlinuz-6.1.0-28-amd64"), "new");
    await assert.rejects(
      findBootFiles(root),
      isCode("NOT_BOOTABLE", /kernel 6\.1\.0-28-amd64 but no initramfs/),
    );
    await writeFile(join(root, "boot/initrd.img-6.1.0-28-amd64"), "initrd");
    await assert.rejects(findBootFiles(root), isCode("NOT_BOOTABLE", /not its modules/));
    await mkdir(join(root, "lib/modules/6.1.0-28-amd64"), { recursive: true });
    await assert.rejects(findBootFiles(root), isCode("NOT_BOOTABLE", /no init/));
    // /sbin/init as Debian has it: a symlink to systemd, resolved inside the root.
    await mkdir(join(root, "lib/systemd"), { recursive: true });
    await writeFile(join(root, "lib/systemd/systemd"), "init");
    await mkdir(join(root, "sbin"));
    await symlink("/lib/systemd/systemd", join(root, "sbin/init"));
    const files = await findBootFiles(root);
    assert.deepEqual(files, {
      kernelVersion: "6.1.0-28-amd64",
      kernel: "/boot/vmlinuz-6.1.0-28-amd64",
      initrd: "/boot/initrd.img-6.1.0-28-amd64",
      init: "/sbin/init",
    });
    const config = grubConfig(files, "1234").split("\n");
    const entry = config.findIndex((l) => l.startsWith("menuentry"));
    assert.match(
      config[entry + 1] ?? "",
      /^ {2}linux \/boot\/vmlinuz-6\.1\.0-28-amd64 root=UUID=1234 ro .*console=ttyS0,115200$/,
    );
    assert.match(config.join("\n"), /^terminal_input serial console$/m);
  });
});
