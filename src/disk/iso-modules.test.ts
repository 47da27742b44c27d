// Modules of the live boot: found in modules.dep with their dependencies, dependencies first,
// built-in ones left out, compressed ones decompressed, a missing required one an error.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { DiskError } from "./errors.ts";
import {
  liveModules,
  loadOrder,
  parseModulesBuiltin,
  parseModulesDep,
  REQUIRED_MODULES,
} from "./iso-modules.ts";

const VER = "6.1.0-9-amd64";
// A Debian-like modules.dep for the required modules and one optional controller.
const DEP = `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/fs/isofs/isofs.ko: kernel/drivers/cdrom/cdrom.ko
kernel/drivers/cdrom/cdrom.ko:
kernel/drivers/scsi/sr_mod.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/drivers/cdrom/cdrom.ko
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/block/loop.ko:
kernel/fs/overlayfs/overlay.ko:
kernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko
kernel/drivers/ata/libata.ko: kernel/drivers/scsi/scsi_mod.ko
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/sound/unrelated.ko:
`;

describe("loadOrder", () => {
  it("lists each needed module once, after its dependencies, and nothing unrelated", () => {
    const order = loadOrder(parseModulesDep(DEP), new Set(), VER);
    assert.equal(new Set(order).size, order.length);
    const dep = parseModulesDep(DEP);
    for (const [i, name] of order.entries()) {
      for (const d of dep.get(name)?.deps ?? []) {
        const depName = d.replace(/^.*\//, "").replace(/\.ko$/, "");
        assert.ok(order.indexOf(depName) >= 0 && order.indexOf(depName) < i, `${depName} before ${name}`);
      }
    }
    for (const name of REQUIRED_MODULES) assert.ok(order.includes(name), name);
    assert.ok(order.includes("ata_piix") && order.includes("crc32c_intel"));
    assert.ok(!order.includes("unrelated"));
  });

  it("leaves out modules built into the kernel", () => {
    const order = loadOrder(parseModulesDep(DEP), parseModulesBuiltin("kernel/fs/ext4/ext4.ko\n"), VER);
    assert.ok(!order.includes("ext4") && !order.includes("jbd2"));
  });

  it("says which module is missing when the kernel neither has nor builds in a required one", () => {
    const withoutOverlay = DEP.replace("kernel/fs/overlayfs/overlay.ko:\n", "");
    assert.throws(
      () => loadOrder(parseModulesDep(withoutOverlay), new Set(), VER),
      (e: unknown) => e instanceof DiskError && e.code === "NOT_BOOTABLE" && e.message.includes('"overlay"'),
    );
    assert.doesNotThrow(() =>
      loadOrder(parseModulesDep(withoutOverlay), parseModulesBuiltin("kernel/fs/overlayfs/overlay.ko"), VER),
    );
  });
});

describe("liveModules", () => {
  it("reads the modules from usr/lib/modules and decompresses .ko.gz, .ko.xz and .ko.zst", async () => {
    const root = await mkdtemp(join(tmpdir(), "strata-mods-"));
    try {
      const dir = join(root, "usr/lib/modules", VER);
      const compressed = new Map([
        ["kernel/fs/isofs/isofs.ko", "gz"],
        ["kernel/fs/ext4/ext4.ko", "xz"],
        ["kernel/fs/overlayfs/overlay.ko", "zst"],
      ]);
      let dep = DEP;
      for (const line of DEP.split("\n").filter((l) => l !== "")) {
        const path = line.slice(0, line.indexOf(":"));
        const content = Buffer.from(`module ${path}`);
        const kind = compressed.get(path);
        const file = kind === undefined ? path : `${path}.${kind}`;
        dep = dep.replaceAll(`${path}:`, `${file}:`).replaceAll(` ${path}`, ` ${file}`);
        await mkdir(dirname(join(dir, file)), { recursive: true });
        if (kind === "gz") await writeFile(join(dir, file), gzipSync(content));
        else if (kind === undefined) await writeFile(join(dir, file), content);
        else {
          const tool = kind === "xz" ? "xz" : "zstd";
          const made = spawnSync(tool, ["-c", "-q"], { input: content });
          assert.equal(made.status, 0, `${tool} is needed`);
          await writeFile(join(dir, file), made.stdout);
        }
      }
      await writeFile(join(dir, "modules.dep"), dep);
      const modules = await liveModules(root, VER);
      for (const name of ["isofs", "ext4", "overlay", "cdrom"]) {
        const m = modules.find((x) => x.name === name);
        assert.ok(m !== undefined, name);
        assert.match(m.data.toString(), new RegExp(`^module kernel/.*/${name}\\.ko$`));
      }
      assert.ok(modules.findIndex((m) => m.name === "jbd2") < modules.findIndex((m) => m.name === "ext4"));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("says the root lacks modules.dep for the kernel", async () => {
    const root = await mkdtemp(join(tmpdir(), "strata-mods-"));
    try {
      await assert.rejects(
        liveModules(root, VER),
        (e: unknown) => e instanceof DiskError && e.code === "NOT_BOOTABLE" && e.message.includes(VER),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
