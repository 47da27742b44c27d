// Generalizing a root for a disk, as deprovisioning does before an image is captured: nothing
// that must differ between machines stays in it (machine-id, SSH host keys, the random seed),
// and what a disk needs that a container image does not is written in — an fstab by UUID and the
// boot loader's configuration. Every file written gets the build's epoch as its time, so the
// same image gives the same bytes.
import { chmod, lstat, lutimes, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BootFiles } from "./root.ts";

export type BootMode = "bios" | "uefi";

export interface GeneralizeOptions {
  readonly boot: BootMode;
  readonly rootUuid: string;
  /** The EFI system partition's FAT volume id (XXXX-XXXX), for uefi. */
  readonly espId?: string;
  readonly files: BootFiles;
  readonly epoch: number;
}

/** The kernel command line of every Strata disk: the root by UUID and a serial console, as clouds want. */
export function kernelCommandLine(rootUuid: string): string {
  return `root=UUID=${rootUuid} ro console=tty0 console=ttyS0,115200`;
}

/**
 * GRUB's configuration: a serial terminal beside the screen, a one-second menu, and one entry
 * whose first line is the `linux` line (the boot test appends to it at the menu, as an operator
 * would). `root` comes from GRUB's prefix, which names the root partition.
 */
export function grubConfig(files: BootFiles, rootUuid: string): string {
  return [
    "# Written by strata disk build.",
    "serial --unit=0 --speed=115200",
    "terminal_input serial console",
    "terminal_output serial console",
    "set timeout=1",
    "menuentry 'Linux' {",
    `  linux ${files.kernel} ${kernelCommandLine(rootUuid)}`,
    `  initrd ${files.initrd}`,
    "}",
    "",
  ].join("\n");
}

const KEYGEN_UNIT = `# Written by strata disk build: the image was generalized without SSH host keys,
# so each machine makes its own at first boot.
[Unit]
Description=Generate SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

export async function generalize(root: string, options: GeneralizeOptions): Promise<void> {
  const written: string[] = [];
  const write = async (path: string, text: string, mode = 0o644) => {
    await mkdir(join(root, path, ".."), { recursive: true });
    await rm(join(root, path), { force: true });
    await writeFile(join(root, path), text, { mode });
    await chmod(join(root, path), mode);
    written.push(path);
  };

  // An empty machine-id: systemd makes a new one at first boot (and runs first-boot units).
  await write("etc/machine-id", "", 0o444);
  await rm(join(root, "var/lib/dbus/machine-id"), { force: true });
  for (const path of ["var/lib/systemd/random-seed", "var/lib/systemd/credential.secret"])
    await rm(join(root, path), { force: true });
  const ssh = await readdir(join(root, "etc/ssh")).catch(() => [] as string[]);
  for (const name of ssh.filter((n) => n.startsWith("ssh_host_")))
    await rm(join(root, "etc/ssh", name), { force: true });
  if (await exists(join(root, "usr/bin/ssh-keygen"))) {
    await write("etc/systemd/system/strata-ssh-host-keys.service", KEYGEN_UNIT);
    const wants = "etc/systemd/system/multi-user.target.wants";
    await mkdir(join(root, wants), { recursive: true });
    await rm(join(root, wants, "strata-ssh-host-keys.service"), { force: true });
    await symlink(
      "/etc/systemd/system/strata-ssh-host-keys.service",
      join(root, wants, "strata-ssh-host-keys.service"),
    );
    written.push(`${wants}/strata-ssh-host-keys.service`, wants);
  }

  const fstab = [
    "# Written by strata disk build: file systems by UUID.",
    `UUID=${options.rootUuid} / ext4 errors=remount-ro 0 1`,
    ...(options.boot === "uefi" && options.espId !== undefined
      ? [`UUID=${options.espId} /boot/efi vfat umask=0077 0 2`]
      : []),
    "",
  ].join("\n");
  await write("etc/fstab", fstab);
  if (options.boot === "uefi") {
    await mkdir(join(root, "boot/efi"), { recursive: true });
    written.push("boot/efi");
  }
  await write("boot/grub/grub.cfg", grubConfig(options.files, options.rootUuid));
  written.push(
    "",
    "boot/grub",
    "boot",
    "etc",
    "etc/systemd/system",
    "etc/systemd",
    "var/lib/systemd",
    "var/lib/dbus",
    "etc/ssh",
  );

  for (const path of written) {
    if (await exists(join(root, path))) await lutimes(join(root, path), options.epoch, options.epoch);
  }
}
