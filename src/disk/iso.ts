// The bootable live ISO: GRUB (grub-mkrescue, a hybrid BIOS/UEFI image through xorriso), the
// root's kernel, the root's Debian initrd with the live boot appended (iso-initramfs.ts) and the
// root file system image, which the live boot mounts read-only under a tmpfs overlay.
//
// ISO layout:
//   /boot/grub/grub.cfg   serial console menu, one entry whose first line is the `linux` line
//   /live/vmlinuz         the root's /boot/vmlinuz-VER
//   /live/initrd.img      the root's /boot/initrd.img-VER + padding + the live cpio
//   /live/root.ext4       the root file system image
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DiskError } from "./errors.ts";
import { liveInitramfsOverlay, ROOT_IMAGE_PATH } from "./iso-initramfs.ts";
import { liveModules } from "./iso-modules.ts";

export interface LiveIsoInput {
  /** The unpacked, generalized root tree (has /boot/vmlinuz-VER, /boot/initrd.img-VER, /lib/modules/VER). */
  readonly root: string;
  /** An ext4 image file of that root. */
  readonly rootImage: string;
  /** e.g. 6.1.0-50-amd64 */
  readonly kernelVersion: string;
  /** The .iso to write. */
  readonly out: string;
  /** ISO 9660 volume ID: up to 32 of A–Z, 0–9 and _; default STRATA. */
  readonly volumeId?: string;
  /**
   * SOURCE_DATE_EPOCH: the time of every file in the ISO and of the appended initramfs archive.
   * The ISO is not byte-for-byte reproducible even so: grub-mkrescue stamps the volume with the
   * time of the build (GRUB finds its own volume by that stamp) and makes its EFI image with mtools.
   */
  readonly epoch?: number;
  /** Scratch (default a temp folder); what is made in it is removed afterwards. */
  readonly workDir?: string;
}

/** GRUB's configuration: the serial console the boot test types at, one entry. */
export const LIVE_GRUB_CFG = `serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
menuentry 'Strata live' {
  linux /live/vmlinuz boot=strata-live ro console=tty0 console=ttyS0,115200
  initrd /live/initrd.img
}
`;

const VOLUME_ID = /^[A-Z0-9_]{1,32}$/;

/** Writes a live ISO of the root to input.out (through a temporary file beside it). */
export async function makeLiveIso(input: LiveIsoInput): Promise<void> {
  const volumeId = input.volumeId ?? "STRATA";
  if (!VOLUME_ID.test(volumeId)) {
    throw new DiskError(
      "USAGE",
      `Cannot make a live ISO: volume ID "${volumeId}" is not 1 to 32 of A-Z, 0-9 and _`,
    );
  }
  const epoch = input.epoch;
  if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff)) {
    throw new DiskError(
      "USAGE",
      `Cannot make a live ISO: epoch ${epoch} is not a count of seconds since 1970`,
    );
  }
  if (!/^[A-Za-z0-9._+-]+$/.test(input.kernelVersion)) {
    throw new DiskError("USAGE", `Cannot make a live ISO: "${input.kernelVersion}" is not a kernel version`);
  }
  const kernel = join(input.root, "boot", `vmlinuz-${input.kernelVersion}`);
  const initrd = join(input.root, "boot", `initrd.img-${input.kernelVersion}`);
  await mustBeFile(kernel, "NOT_BOOTABLE", "the root has no kernel");
  await mustBeFile(
    initrd,
    "NOT_BOOTABLE",
    "the root has no initramfs (initramfs-tools makes it with the kernel)",
  );
  await mustBeFile(input.rootImage, "USAGE", "the root file system image is not a file");

  const modules = await liveModules(input.root, input.kernelVersion);
  const base = input.workDir ?? tmpdir();
  await mkdir(base, { recursive: true });
  const work = await mkdtemp(join(base, "strata-iso-"));
  const out = resolve(input.out);
  const partial = `${out}.partial`;
  try {
    const stage = join(work, "iso");
    await mkdir(join(stage, "boot", "grub"), { recursive: true });
    await mkdir(join(stage, "live"), { recursive: true });
    await writeFile(join(stage, "boot", "grub", "grub.cfg"), LIVE_GRUB_CFG);
    await writeFile(
      join(stage, "live", "initrd.img"),
      appendArchive(
        await readFile(initrd),
        liveInitramfsOverlay(modules, epoch === undefined ? {} : { mtime: epoch }),
      ),
    );
    if (epoch !== undefined) {
      for (const p of ["boot/grub/grub.cfg", "live/initrd.img", "boot/grub", "boot", "live", ""]) {
        await utimes(join(stage, p), epoch, epoch);
      }
    }
    await mkdir(dirname(out), { recursive: true });
    await rm(partial, { force: true });
    // Arguments after grub-mkrescue's own go to `xorriso -as mkisofs`; those after "--" are native
    // xorriso commands, run once the whole tree is in: they stamp every file with the epoch.
    const args = [
      "-o",
      partial,
      stage,
      `/live/vmlinuz=${resolve(kernel)}`,
      `/${ROOT_IMAGE_PATH}=${resolve(input.rootImage)}`,
      "-iso-level",
      "3",
      "-V",
      volumeId,
    ];
    if (epoch !== undefined) args.push("--", "-alter_date_r", "b", `=${epoch}`, "/", "--");
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: work };
    if (epoch !== undefined) env.SOURCE_DATE_EPOCH = String(epoch);
    else delete env.SOURCE_DATE_EPOCH;
    await run("grub-mkrescue", args, env);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Debian's initrd followed by the live archive. The kernel's unpacker skips zeros between
 * archives and computes newc's 4-byte alignment from the start of the whole initrd, so the second
 * archive starts on a 4-byte boundary.
 */
export function appendArchive(initrd: Buffer, archive: Buffer): Buffer {
  const padding = (4 - (initrd.length % 4)) % 4;
  return Buffer.concat([initrd, Buffer.alloc(padding), archive]);
}

async function mustBeFile(path: string, code: "NOT_BOOTABLE" | "USAGE", why: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) throw new DiskError(code, `Cannot make a live ISO: ${why}: "${path}" is missing`);
}

/** Runs a tool to its end; its output is kept for the error. */
function run(tool: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool, args, { stdio: ["ignore", "pipe", "pipe"], env });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) =>
      reject(
        new DiskError(
          "TOOL_FAILED",
          `Cannot make a live ISO: ${tool} did not start: ${error.message}: install grub-common, grub-pc-bin, grub-efi-amd64-bin, mtools and xorriso`,
        ),
      ),
    );
    child.on("close", (code) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new DiskError("TOOL_FAILED", `Cannot make a live ISO: ${tool} exited ${code}: ${output.trim()}`),
        );
    });
  });
}
