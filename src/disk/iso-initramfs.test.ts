// The archive appended to Debian's initrd and its boot script: what cpio finds in it, that the
// script parses, and what it makes of the root's fstab (run in dash, the initramfs's shell).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LIVE_SCRIPT, liveInitramfsOverlay } from "./iso-initramfs.ts";
import { appendArchive } from "./iso.ts";

async function scratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "strata-initramfs-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("liveInitramfsOverlay", () => {
  it("holds the boot script, the module order and the modules, and no entry for Debian's folders", () =>
    scratch(async (dir) => {
      const archive = liveInitramfsOverlay(
        [
          { name: "cdrom", data: Buffer.from("c") },
          { name: "sr_mod", data: Buffer.from("s") },
        ],
        { mtime: 1 },
      );
      const listed = spawnSync("cpio", ["-t", "--quiet"], { input: archive, encoding: "utf8" });
      assert.equal(listed.status, 0, "cpio is needed (apt-get install cpio)");
      const names = listed.stdout.trim().split("\n");
      assert.deepEqual(names, [
        "scripts/strata-live",
        "strata-live",
        "strata-live/modules",
        "strata-live/modules/ORDER",
        "strata-live/modules/cdrom.ko",
        "strata-live/modules/sr_mod.ko",
      ]);
      // Debian's archive owns scripts/, lib -> usr/lib and the rest: replacing them would break it.
      assert.ok(!names.some((n) => ["scripts", "lib", "usr", "bin"].includes(n)));
      spawnSync("cpio", ["-i", "-d", "--quiet"], { input: archive, cwd: dir });
      assert.equal(await readFile(join(dir, "strata-live/modules/ORDER"), "utf8"), "cdrom\nsr_mod\n");
      assert.equal((await stat(join(dir, "scripts/strata-live"))).mode & 0o777, 0o755);
    }));

  it("starts on a 4-byte boundary after the initrd it is appended to", () => {
    const archive = liveInitramfsOverlay([]);
    for (const n of [0, 1, 2, 3, 4, 5]) {
      const both = appendArchive(Buffer.alloc(n, 0x1f), archive);
      const at = both.indexOf("070701");
      assert.equal(at % 4, 0);
      assert.ok(both.subarray(n, at).every((b) => b === 0));
    }
  });
});

describe("the live boot script", () => {
  it("is valid shell", () => {
    const checked = spawnSync("dash", ["-n"], { input: LIVE_SCRIPT, encoding: "utf8" });
    assert.equal(checked.status, 0, checked.stderr);
  });

  it("defines what initramfs-tools calls for boot=strata-live", () => {
    for (const fn of ["mountroot", "mount_top", "mount_premount", "mount_bottom"]) {
      assert.match(LIVE_SCRIPT, new RegExp(`^${fn}\\(\\)$`, "m"), fn);
    }
  });

  it("keeps disk device lines of the root's fstab as comments and the rest as they were", () =>
    scratch(async (dir) => {
      await mkdir(join(dir, "etc"));
      const fstab = [
        "UUID=3f6b3a1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b / ext4 errors=remount-ro 0 1",
        "  PARTUUID=1234-01 /boot/efi vfat umask=0077 0 1",
        "LABEL=data /data ext4 nofail",
        "/dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0",
        "tmpfs /tmp tmpfs defaults 0 0",
        "# a comment with a * in it",
        "/srv/a\\040b /mnt none bind 0 0",
        "",
      ];
      await writeFile(join(dir, "etc/fstab"), fstab.join("\n"));
      const ran = spawnSync("dash", ["-c", `${LIVE_SCRIPT}\nrootmnt="$1"\nstrata_live_fstab`, "sh", dir], {
        encoding: "utf8",
      });
      assert.equal(ran.status, 0, ran.stderr);
      assert.deepEqual((await readFile(join(dir, "etc/fstab"), "utf8")).split("\n"), [
        `# not on the live system: ${fstab[0]}`,
        `# not on the live system: ${fstab[1]}`,
        `# not on the live system: ${fstab[2]}`,
        `# not on the live system: ${fstab[3]}`,
        fstab[4],
        fstab[5],
        fstab[6],
        "",
      ]);
    }));
});
