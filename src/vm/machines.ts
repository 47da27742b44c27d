// Machines for `strata vm run`: each boots on its own qcow2 overlay backed by a cached base disk
// (never copied, so ten machines from one version share one base file), with a QMP socket for
// control and its serial console logged to a file. State is one folder per machine:
//
//   <stateDir>/<name>/
//     vm.json        the record (replaced atomically)
//     disk.qcow2     the machine's overlay; its backing file is the base
//     qmp.sock       QMP control socket (stop, quit)
//     console.sock   the serial console, for attaching (detached machines)
//     serial.log     everything the guest printed on its console
//     qemu.pid       QEMU's pid (detached machines)
//
// A machine's status is derived on every read from its pid and that process's start time, so a
// reused pid or a rebooted host cannot make a dead machine look alive.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Accel, probeAccel } from "./accel.ts";
import { VmError } from "./errors.ts";
import { qmpCommand } from "./qmp.ts";
import { createOverlay, findOvmf, QEMU, qemuValue, type VmBootMode, type VmDiskFormat } from "./tools.ts";

export interface VmBase {
  readonly path: string;
  readonly format: Exclude<VmDiskFormat, "iso">;
}

export interface RunVmOptions {
  readonly base: VmBase;
  readonly stateDir: string;
  readonly name?: string;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  readonly boot?: VmBootMode;
  /** Start QEMU in the background and return; otherwise the console is on this process's stdio. */
  readonly detach?: boolean;
  readonly accel?: Accel;
  /** Free-form label kept in the record, e.g. the gallery reference it came from. */
  readonly source?: string;
}

export interface VmRecord {
  readonly name: string;
  readonly id: string;
  readonly base: VmBase;
  readonly source?: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly accel: Accel;
  readonly boot: VmBootMode;
  readonly created: string;
  readonly detached: boolean;
  readonly pid?: number;
  /** The pid's start time (clock ticks after boot), so a reused pid is not taken for QEMU. */
  readonly pidStart?: string;
}

export interface VmInfo extends VmRecord {
  readonly running: boolean;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Unix socket paths are limited to 108 bytes (sun_path), the terminating NUL included. */
const MAX_SOCKET_PATH = 107;

export const vmDir = (stateDir: string, name: string) => join(stateDir, name);
const file = (stateDir: string, name: string, f: string) => join(vmDir(stateDir, name), f);

/** QEMU's command line for a machine. */
export function machineArgs(dir: string, record: VmRecord, firmware?: string): string[] {
  const at = (f: string) => qemuValue(join(dir, f));
  const log = `logfile=${at("serial.log")},logappend=on`;
  const console = record.detached
    ? ["-chardev", `socket,id=console,path=${at("console.sock")},server=on,wait=off,${log}`]
    : ["-chardev", `stdio,id=console,signal=on,${log}`];
  return [
    ...[
      "-name",
      qemuValue(record.name),
      "-accel",
      record.accel,
      ...(record.accel === "kvm" ? ["-cpu", "host"] : []),
    ],
    ...["-m", String(record.memoryMiB), "-smp", String(record.cpus), "-display", "none", "-monitor", "none"],
    ...(firmware === undefined ? [] : ["-bios", firmware]),
    ...["-drive", `file=${at("disk.qcow2")},format=qcow2,if=virtio`],
    ...["-nic", "user,model=virtio-net-pci"],
    ...["-qmp", `unix:${at("qmp.sock")},server=on,wait=off`],
    ...console,
    ...["-serial", "chardev:console"],
    ...(record.detached ? ["-daemonize", "-pidfile", join(dir, "qemu.pid")] : []),
  ];
}

export async function runVm(options: RunVmOptions): Promise<VmInfo> {
  const stateDir = resolve(options.stateDir);
  const id = randomBytes(6).toString("hex");
  const name = options.name ?? `vm-${id}`;
  if (!NAME_RE.test(name))
    throw new VmError(
      "USAGE",
      `Invalid machine name "${name}": letters, digits, ".", "_" and "-", at most 63`,
    );
  const memoryMiB = options.memoryMiB ?? 1024;
  const cpus = options.cpus ?? 1;
  if (!Number.isInteger(memoryMiB) || memoryMiB < 16)
    throw new VmError("USAGE", `Invalid memory "${memoryMiB}": a whole number of MiB, at least 16`);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255)
    throw new VmError("USAGE", `Invalid CPU count "${cpus}": 1 to 255`);
  const base = { path: resolve(options.base.path), format: options.base.format };
  if ((base.format as VmDiskFormat) === "iso")
    throw new VmError("USAGE", "A machine runs from a disk, not an iso: boot-test the iso instead");
  await stat(base.path).catch((error: unknown) => {
    throw new VmError("NOT_FOUND", `No base disk at "${base.path}"`, "", { cause: error });
  });
  const dir = vmDir(stateDir, name);
  if (join(dir, "console.sock").length > MAX_SOCKET_PATH)
    throw new VmError(
      "USAGE",
      `State folder "${stateDir}" is too long for QEMU's sockets: use a shorter one`,
    );
  await mkdir(stateDir, { recursive: true });
  try {
    await mkdir(dir);
  } catch (error) {
    throw new VmError("USAGE", `A machine named "${name}" exists: remove it or choose another name`, "", {
      cause: error,
    });
  }
  try {
    const boot = options.boot ?? "bios";
    const firmware = boot === "uefi" ? await findOvmf() : undefined;
    const record: VmRecord = {
      name,
      id,
      base,
      ...(options.source === undefined ? {} : { source: options.source }),
      memoryMiB,
      cpus,
      accel: options.accel ?? (await probeAccel()),
      boot,
      created: new Date().toISOString(),
      detached: options.detach ?? false,
    };
    await createOverlay(base.path, base.format, join(dir, "disk.qcow2"));
    const args = machineArgs(dir, record, firmware);
    if (record.detached) return await startDetached(stateDir, dir, record, args);
    return await runForeground(stateDir, record, args);
  } catch (error) {
    // A machine that did not start leaves nothing behind.
    if (!(await isRunning(stateDir, name))) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startDetached(
  stateDir: string,
  dir: string,
  record: VmRecord,
  args: string[],
): Promise<VmInfo> {
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn(QEMU, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.once("error", (e) => done({ code: -1, stderr: String(e) }));
    child.once("close", (c) => done({ code: c, stderr: err }));
  });
  if (code !== 0) throw new VmError("QEMU_FAILED", `QEMU did not start "${record.name}": ${stderr.trim()}`);
  const pid = Number((await readFile(join(dir, "qemu.pid"), "utf8")).trim());
  const pidStart = await processStart(pid);
  const started: VmRecord = { ...record, pid, ...(pidStart === undefined ? {} : { pidStart }) };
  await writeRecord(stateDir, started);
  return { ...started, running: pidStart !== undefined };
}

async function runForeground(stateDir: string, record: VmRecord, args: string[]): Promise<VmInfo> {
  const child = spawn(QEMU, args, { stdio: "inherit" });
  const pid = child.pid;
  const pidStart = pid === undefined ? undefined : await processStart(pid);
  await writeRecord(stateDir, {
    ...record,
    ...(pid === undefined ? {} : { pid }),
    ...(pidStart === undefined ? {} : { pidStart }),
  });
  const code = await new Promise<number | null>((done) => {
    child.once("error", () => done(-1));
    child.once("close", (c) => done(c));
  });
  if (code !== 0) throw new VmError("QEMU_FAILED", `QEMU exited with status ${code} for "${record.name}"`);
  return { ...(await readRecord(stateDir, record.name)), running: false };
}

async function writeRecord(stateDir: string, record: VmRecord): Promise<void> {
  const path = file(stateDir, record.name, "vm.json");
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

async function readRecord(stateDir: string, name: string): Promise<VmRecord> {
  if (!NAME_RE.test(name)) throw new VmError("NOT_FOUND", `No machine "${name}" (strata vm ps lists them)`);
  try {
    return JSON.parse(await readFile(file(stateDir, name, "vm.json"), "utf8")) as VmRecord;
  } catch (error) {
    throw new VmError("NOT_FOUND", `No machine "${name}" (strata vm ps lists them)`, "", { cause: error });
  }
}

/** The start time of a process (field 22 of /proc/PID/stat), or undefined when it is gone. */
async function processStart(pid: number): Promise<string | undefined> {
  const statText = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  return statText?.slice(statText.lastIndexOf(")") + 2).split(" ")[19];
}

async function alive(record: VmRecord): Promise<boolean> {
  if (record.pid === undefined) return false;
  const now = await processStart(record.pid);
  return now !== undefined && (record.pidStart === undefined || now === record.pidStart);
}

async function isRunning(stateDir: string, name: string): Promise<boolean> {
  return readRecord(stateDir, name).then(alive, () => false);
}

export async function inspectVm(stateDir: string, name: string): Promise<VmInfo> {
  const record = await readRecord(stateDir, name);
  return { ...record, running: await alive(record) };
}

/** Every machine with a record, by name. A folder without one (being created) is skipped. */
export async function listVms(stateDir: string): Promise<VmInfo[]> {
  const names = (await readdir(stateDir).catch(() => [] as string[])).sort();
  const out: VmInfo[] = [];
  for (const name of names) {
    const info = await inspectVm(stateDir, name).catch(() => undefined);
    if (info !== undefined) out.push(info);
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitGone(record: VmRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await alive(record)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

export interface StopOptions {
  /** How long the guest may take to power off after ACPI's power button; default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * Stops a machine: the ACPI power button (QMP system_powerdown) so the guest shuts down, then
 * QMP `quit` after the timeout, then SIGKILL. Says how it ended; a stopped machine is left as is.
 */
export async function stopVm(
  stateDir: string,
  name: string,
  options: StopOptions = {},
): Promise<"stopped" | "quit" | "killed" | "not-running"> {
  const record = await readRecord(stateDir, name);
  if (!(await alive(record))) return "not-running";
  const qmp = file(stateDir, name, "qmp.sock");
  const powered = await qmpCommand(qmp, "system_powerdown").then(
    () => true,
    () => false,
  );
  if (powered && (await waitGone(record, options.timeoutMs ?? 30_000))) return "stopped";
  return halt(record, qmp);
}

async function halt(record: VmRecord, qmp: string): Promise<"quit" | "killed"> {
  await qmpCommand(qmp, "quit").catch(() => undefined);
  if (await waitGone(record, 5000)) return "quit";
  if (record.pid !== undefined) process.kill(record.pid, "SIGKILL");
  await waitGone(record, 5000);
  return "killed";
}

/** Removes a machine's overlay and state; a running one only with `force` (then it is halted). */
export async function removeVm(
  stateDir: string,
  name: string,
  options: { force?: boolean } = {},
): Promise<void> {
  const record = await readRecord(stateDir, name);
  if (await alive(record)) {
    if (options.force !== true)
      throw new VmError("USAGE", `Machine "${name}" is running: stop it first, or remove it with force`);
    await halt(record, file(stateDir, name, "qmp.sock"));
  }
  await rm(vmDir(stateDir, name), { recursive: true, force: true });
}

/** What the machine's guest printed on its serial console, as logged. */
export async function vmLogs(stateDir: string, name: string): Promise<string> {
  await readRecord(stateDir, name);
  return readFile(file(stateDir, name, "serial.log"), "utf8").catch(() => "");
}
