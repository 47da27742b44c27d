// Generalization: what must differ between machines leaves the root (machine-id emptied, SSH
// host keys, the random seed), each machine makes its own SSH keys at first boot, the fstab
// names file systems by UUID, GRUB's configuration is written, and every file written carries
// the epoch as its time.
import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generalize } from "./generalize.ts";

const FILES = {
  kernelVersion: "6.1.0-28-amd64",
  kernel: "/boot/vmlinuz-6.1.0-28-amd64",
  initrd: "/boot/initrd.img-6.1.0-28-amd64",
  init: "/sbin/init",
};
const EPOCH = 1_704_067_200;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-generalize-"));
  for (const dir of ["etc/ssh", "usr/bin", "var/lib/dbus", "var/lib/systemd", "boot"])
    await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
  await writeFile(join(root, "var/lib/dbus/machine-id"), "0123456789abcdef0123456789abcdef\n");
  await writeFile(join(root, "var/lib/systemd/random-seed"), "seed");
  for (const key of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key"])
    await writeFile(join(root, "etc/ssh", key), "secret");
  await writeFile(join(root, "etc/ssh/sshd_config"), "PermitRootLogin no\n");
  await writeFile(join(root, "usr/bin/ssh-keygen"), "", { mode: 0o755 });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("generalize", () => {
  it("resets machine identity, writes fstab and GRUB's configuration, all at the epoch", async () => {
    await generalize(root, {
      boot: "uefi",
      rootUuid: "r-uuid",
      espId: "ABCD-1234",
      files: FILES,
      epoch: EPOCH,
    });
    assert.equal(await readFile(join(root, "etc/machine-id"), "utf8"), "");
    assert.equal((await lstat(join(root, "etc/machine-id"))).mode & 0o777, 0o444);
    for (const gone of ["var/lib/dbus/machine-id", "var/lib/systemd/random-seed", "etc/ssh/ssh_host_rsa_key"])
      await assert.rejects(lstat(join(root, gone)), { code: "ENOENT" }, gone);
    assert.equal(await readFile(join(root, "etc/ssh/sshd_config"), "utf8"), "PermitRootLogin no\n");
    const unit = await readFile(join(root, "etc/systemd/system/strata-ssh-host-keys.service"), "utf8");
    assert.match(unit, /ExecStart=\/usr\/bin\/ssh-keygen -A/);
    assert.equal(
      await readlink(join(root, "etc/systemd/system/multi-user.target.wants/strata-ssh-host-keys.service")),
      "/etc/systemd/system/strata-ssh-host-keys.service",
    );
    const fstab = await readFile(join(root, "etc/fstab"), "utf8");
    assert.match(fstab, /^UUID=r-uuid \/ ext4 errors=remount-ro 0 1$/m);
    assert.match(fstab, /^UUID=ABCD-1234 \/boot\/efi vfat umask=0077 0 2$/m);
    assert.match(
      await readFile(join(root, "boot/grub/grub.cfg"), "utf8"),
      /linux \/boot\/vmlinuz-6\.1\.0-28-amd64 root=UUID=r-uuid ro/,
    );
    for (const path of ["", "etc", "etc/fstab", "etc/machine-id", "boot/grub/grub.cfg", "boot/efi"])
      assert.equal((await lstat(join(root, path))).mtimeMs, EPOCH * 1000, `${path || "/"} at the epoch`);
  });
});
