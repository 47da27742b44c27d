// The boot test: a disk booted in QEMU on a throwaway qcow2 overlay (its bytes never change),
// the harness typing at GRUB and at the initramfs shell to hand the booted system a transient
// gate unit (see guest-setup.ts), then reading the gates' results from the second serial port.
// QEMU is always killed and the work folder removed, whatever happens.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Accel, probeAccel } from "./accel.ts";
import { VmError } from "./errors.ts";
import { evaluateGates, type GateResult, type GuestGate, parseGateLog, validateGates } from "./gates.ts";
import { editKeys, GRUB_EDITOR_RE, GRUB_MENU_RE, KERNEL_STARTED_RE, linuxLineIndex } from "./grub.ts";
import { setupLines, TYPED_MARK } from "./guest-setup.ts";
import { SerialConsole } from "./serial.ts";
import { createOverlay, findOvmf, QEMU, qemuValue, type VmBootMode, type VmDiskFormat } from "./tools.ts";

export interface BootTestOptions {
  readonly gates: readonly GuestGate[];
  readonly boot: VmBootMode;
  /** Seconds from QEMU's start until the guest must be ready (multi-user.target); default 120. */
  readonly readyTimeout?: number;
  /** Seconds the gates may take once the guest is ready; default 300. */
  readonly gatesTimeout?: number;
  readonly memoryMiB?: number;
  /** vCPUs of the test VM; default 2 under KVM, 1 under TCG. */
  readonly cpus?: number;
  /** Where the temporary folder (overlay, gate log) goes; default the OS's temp folder. */
  readonly workDir?: string;
  /** Skip the probe. */
  readonly accel?: Accel;
  /** A kernel for the KVM probe when it has not run yet in this process. */
  readonly kernel?: string;
  /** Everything the guest prints on its console, as it comes. */
  readonly onSerial?: (chunk: string) => void;
  /**
   * Milestones, seconds since QEMU started: "grub" (menu seen), "initramfs" (its shell),
   * "typed" (gate setup done), "ready" (multi-user.target), "done" (gates reported).
   */
  readonly onStage?: (stage: BootStage, seconds: number) => void;
}

export type BootStage = "grub" | "initramfs" | "typed" | "ready" | "done";

export interface BootTestResult {
  readonly accel: Accel;
  /** Seconds from QEMU's start until the guest reported ready. */
  readonly readySeconds: number;
  /** Seconds the gates took. */
  readonly gatesSeconds: number;
  readonly gates: readonly GateResult[];
  readonly serialTail: string;
}

export interface BootDisk {
  readonly path: string;
  readonly format: VmDiskFormat;
}

/** The kernel arguments appended at GRUB: initramfs-tools stops before switch_root. */
export const BREAK_ARGS = "break=bottom";

export interface BootArgs {
  readonly accel: Accel;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** The overlay (qcow2) or, for an iso, the image itself. */
  readonly drive: string;
  readonly cdrom: boolean;
  readonly gateLog: string;
  readonly firmware?: string;
}

/** QEMU's command line for a boot test: console on stdio, gate port (ttyS1) to a file. */
export function bootTestArgs(a: BootArgs): string[] {
  const drive = a.cdrom
    ? ["-drive", `file=${qemuValue(a.drive)},format=raw,media=cdrom,readonly=on`, "-boot", "d"]
    : ["-drive", `file=${qemuValue(a.drive)},format=qcow2,if=virtio`];
  return [
    ...["-accel", a.accel, ...(a.accel === "kvm" ? ["-cpu", "host"] : [])],
    ...["-m", String(a.memoryMiB), "-smp", String(a.cpus)],
    ...["-display", "none", "-monitor", "none", "-no-reboot", "-nic", "none"],
    ...(a.firmware === undefined ? [] : ["-bios", a.firmware]),
    ...drive,
    ...["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"],
    ...["-serial", `file:${qemuValue(a.gateLog)}`],
  ];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function bootTest(disk: BootDisk, options: BootTestOptions): Promise<BootTestResult> {
  validateGates(options.gates);
  const accel =
    options.accel ?? (await probeAccel(options.kernel === undefined ? {} : { kernel: options.kernel }));
  const work = await mkdtemp(join(options.workDir ?? tmpdir(), "strata-boot-"));
  try {
    const cdrom = disk.format === "iso";
    const drive = cdrom ? resolve(disk.path) : join(work, "overlay.qcow2");
    if (!cdrom) await createOverlay(resolve(disk.path), disk.format, drive);
    const gateLog = join(work, "gates.log");
    const args = bootTestArgs({
      accel,
      memoryMiB: options.memoryMiB ?? 1024,
      // Under emulation one vCPU: a second one starved of host time (TCG on a busy host) stalls
      // the guest kernel's RCU and can hang its boot; KVM guests get two.
      cpus: options.cpus ?? (accel === "tcg" ? 1 : 2),
      drive,
      cdrom,
      gateLog,
      ...(options.boot === "uefi" ? { firmware: await findOvmf() } : {}),
    });
    return await runGuest(args, gateLog, accel, options);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function runGuest(
  args: string[],
  gateLog: string,
  accel: Accel,
  options: BootTestOptions,
): Promise<BootTestResult> {
  const started = Date.now();
  const deadline = started + (options.readyTimeout ?? 120) * 1000;
  const left = () => Math.max(0, deadline - Date.now());
  const stage = (name: BootStage) => options.onStage?.(name, (Date.now() - started) / 1000);
  const child = spawn(QEMU, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => (stderr = (stderr + d).slice(-4096)));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once("close", (code) => {
      exitCode = code;
      resolveExit();
    });
    child.once("error", (error) => {
      stderr += String(error);
      exitCode = -1;
      resolveExit();
    });
  });
  const console = new SerialConsole(child.stdout, child.stdin, options.onSerial);
  const notReady = (why: string) => {
    const qemu = exitCode === undefined ? "" : `: QEMU exited (${exitCode}): ${stderr.trim()}`;
    return new VmError(
      "NOT_READY",
      `Guest not ready after ${Math.round((Date.now() - started) / 1000)} s: ${why}${qemu}`,
      console.tail(40),
    );
  };
  try {
    // GRUB's menu, then its editor on the entry: `e`, again while the menu is still shown.
    let at = await console.waitFor(GRUB_MENU_RE, left(), 0);
    if (at === undefined) throw notReady("no GRUB menu on the serial console");
    stage("grub");
    let editor: number | undefined;
    for (let attempt = 0; attempt < 4 && editor === undefined; attempt++) {
      if (KERNEL_STARTED_RE.test(console.since(at)))
        throw notReady("GRUB booted before its entry could be edited");
      const from = console.position;
      await console.type("e");
      editor = await console.waitFor(GRUB_EDITOR_RE, Math.min(3000, left()), from);
    }
    if (editor === undefined) throw notReady("GRUB's editor did not open");
    const index = linuxLineIndex(console.raw) ?? 2;
    at = console.position;
    await console.type(editKeys(index, BREAK_ARGS), { chunk: 8, delayMs: 30 });

    // The initramfs shell: the gate unit and script into /run, then on with the boot.
    at = await console.waitFor(/\(initramfs\) ?$/m, left(), at, true);
    if (at === undefined) throw notReady("no initramfs shell (break=bottom) on the serial console");
    stage("initramfs");
    at = console.position;
    for (const line of setupLines(options.gates)) await console.typeLine(line);
    if ((await console.waitFor(new RegExp(TYPED_MARK), Math.min(15_000, left()), at, true)) === undefined)
      throw notReady("the initramfs shell did not take the gate setup");
    await console.typeLine("exit");
    stage("typed");

    // READY (multi-user.target reached), then each gate, then DONE, on the gate port.
    let log = parseGateLog("");
    while (!log.ready && left() > 0 && exitCode === undefined) {
      await sleep(200);
      log = parseGateLog(await readFile(gateLog, "latin1").catch(() => ""));
    }
    if (!log.ready) throw notReady("multi-user.target was not reached");
    const readyAt = Date.now();
    stage("ready");
    const gatesDeadline = readyAt + (options.gatesTimeout ?? 300) * 1000;
    while (!log.done && Date.now() < gatesDeadline && exitCode === undefined) {
      await sleep(200);
      log = parseGateLog(await readFile(gateLog, "latin1").catch(() => ""));
    }
    log = parseGateLog(await readFile(gateLog, "latin1").catch(() => ""));
    if (log.done) stage("done");
    if (!log.done && log.reports.length < options.gates.length)
      throw new VmError(
        "GATE_FAILED",
        `The gates did not finish: ${log.reports.length} of ${options.gates.length} reported` +
          (exitCode === undefined
            ? ` within ${options.gatesTimeout ?? 300} s`
            : `, then QEMU exited (${exitCode})`),
        console.tail(40),
      );
    return {
      accel,
      readySeconds: (readyAt - started) / 1000,
      gatesSeconds: (Date.now() - readyAt) / 1000,
      gates: evaluateGates(options.gates, log.reports),
      serialTail: console.tail(40),
    };
  } finally {
    // The overlay is thrown away, so nothing needs the guest's orderly shutdown.
    if (exitCode === undefined) child.kill("SIGKILL");
    await exited;
  }
}
