// Running the disk tools (mke2fs, debugfs, sfdisk, grub-mkimage, mtools, qemu-img, xorriso):
// argument lists, never a shell; a failure is a DiskError naming the tool and the end of what it
// printed, and a missing tool names the Debian package that brings it.
import { execFile } from "node:child_process";
import { DiskError } from "./errors.ts";

const PACKAGES: Record<string, string> = {
  mke2fs: "e2fsprogs",
  debugfs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  sfdisk: "fdisk",
  "grub-mkimage": "grub-pc-bin and grub-efi-amd64-bin",
  "grub-mkrescue": "grub-common",
  "mkfs.fat": "dosfstools",
  mmd: "mtools",
  mcopy: "mtools",
  "qemu-img": "qemu-utils",
  xorriso: "xorriso",
  mknod: "coreutils",
  faketime: "faketime",
  setfattr: "attr",
};

export interface ToolOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  /** Milliseconds; default 10 minutes. */
  readonly timeout?: number;
}

/** Runs `cmd args…` and gives its standard output; throws DiskError TOOL_FAILED when it fails. */
export function tool(cmd: string, args: readonly string[], options: ToolOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        env: { ...process.env, LC_ALL: "C", ...options.env },
        maxBuffer: 64 * 2 ** 20,
        timeout: options.timeout ?? 600_000,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT")
          return reject(
            new DiskError(
              "TOOL_FAILED",
              `${cmd} is not installed: install the Debian package ${PACKAGES[cmd] ?? cmd}`,
            ),
          );
        const said = `${stderr}\n${stdout}`.trim().split("\n").slice(-8).join("\n");
        reject(new DiskError("TOOL_FAILED", `${cmd} failed: ${said || error.message}`));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
