// Which accelerator QEMU uses: KVM when it really works, else TCG (emulation). `/dev/kvm`
// opening is not enough — on some hosts it opens and a KVM guest hangs in early boot — so the
// probe boots a Linux kernel under KVM for a few seconds and asks for a line that only a kernel
// well into its boot prints. The answer is kept for the process; STRATA_VM_ACCEL=kvm|tcg
// overrides it.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, readdir } from "node:fs/promises";
import { VmError } from "./errors.ts";
import { QEMU } from "./tools.ts";

export type Accel = "kvm" | "tcg";

export interface ProbeOptions {
  /** A Linux kernel (bzImage) to boot under KVM; default the newest /boot/vmlinuz-* of the host. */
  readonly kernel?: string;
  /** How long the kernel may take to show it runs, in ms; default 8000. */
  readonly timeoutMs?: number;
}

/** Lines a kernel prints once it is past the stage where broken KVM hangs. */
export const KERNEL_PROGRESS_RE = /Run \/init|VFS: |Freeing unused kernel|Kernel panic - not syncing/;

/** QEMU's arguments for the KVM probe: the kernel straight from -kernel, console on stdout. */
export function probeArgs(kernel: string): string[] {
  return [
    ...["-accel", "kvm", "-cpu", "host", "-m", "256", "-smp", "1"],
    ...["-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio"],
    ...["-kernel", kernel, "-append", "console=ttyS0 panic=-1"],
  ];
}

let cached: Accel | undefined;

/** Forgets the cached answer (tests). */
export function resetAccelCache(): void {
  cached = undefined;
}

export async function probeAccel(options: ProbeOptions = {}): Promise<Accel> {
  const forced = process.env["STRATA_VM_ACCEL"];
  if (forced !== undefined && forced !== "") {
    if (forced !== "kvm" && forced !== "tcg")
      throw new VmError("USAGE", `STRATA_VM_ACCEL is "${forced}": it takes kvm or tcg`);
    return forced;
  }
  if (cached !== undefined) return cached;
  if (!(await kvmOpens())) return (cached = "tcg");
  const kernel = options.kernel ?? (await hostKernel());
  // No kernel to try: KVM unproven, so emulate (slower, never hangs). Not cached: a later call
  // with a kernel may prove KVM.
  if (kernel === undefined) return "tcg";
  return (cached = (await kernelBootsUnderKvm(kernel, options.timeoutMs ?? 8000)) ? "kvm" : "tcg");
}

async function kvmOpens(): Promise<boolean> {
  return access("/dev/kvm", constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
}

async function hostKernel(): Promise<string | undefined> {
  const names = await readdir("/boot").catch(() => [] as string[]);
  const kernels = names.filter((n) => n.startsWith("vmlinuz-")).sort();
  const newest = kernels[kernels.length - 1];
  if (newest === undefined) return undefined;
  const path = `/boot/${newest}`;
  return access(path, constants.R_OK).then(
    () => path,
    () => undefined,
  );
}

/** Boots `kernel` under KVM for at most `timeoutMs` and reports whether it got far enough. */
export function kernelBootsUnderKvm(kernel: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(QEMU, probeArgs(kernel), { stdio: ["ignore", "pipe", "ignore"] });
    let text = "";
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (chunk: string) => {
      text = (text + chunk).slice(-8192);
      if (KERNEL_PROGRESS_RE.test(text)) finish(true);
    });
    child.once("error", () => finish(false));
    child.once("close", () => finish(KERNEL_PROGRESS_RE.test(text)));
  });
}
