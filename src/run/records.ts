// A container's record (`containers/NAME/container.json`): what it runs, how it was started
// and its status, brought up to date on every read — a detached container's exit status from its
// monitor's file, a container whose waiting process is gone from runc's state. Shared by the
// runner (containers.ts) and the commands that control containers from outside (control.ts).
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Image, LayerBlob } from "../builder/runtime.ts";
import { RunError } from "./errors.ts";
import { runcState } from "./runc.ts";

export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly config: Image["config"];
  readonly layers: readonly LayerBlob[];
  readonly command: readonly string[];
  readonly created: string;
  /** "exited" without exitCode: the container ended while no `strata run` waited for it. */
  readonly status: "running" | "exited";
  readonly exitCode?: number;
  /** The process that waits for the container: `strata run`, or a detached one's monitor. */
  readonly pid?: number;
  /** That process's start time (clock ticks after boot), so a reused pid is not taken for it. */
  readonly pidStart?: string;
  /** Started with --detach: its output is in stdout.log and stderr.log, its exit status in exit-status. */
  readonly detached?: boolean;
  /** Kept containers only: the root's state at start, for commit. */
  readonly committable: boolean;
}

export const containerDir = (state: string, name: string) => join(state, "containers", name);

/** The file a detached container's monitor writes its exit status to. */
export const STATUS_FILE = "exit-status";

/** A container's record, its status brought up to date (a detached one's exit, a vanished runner). */
export async function readRecord(stateDir: string, name: string): Promise<ContainerRecord> {
  let record: ContainerRecord;
  try {
    record = JSON.parse(
      await readFile(join(containerDir(stateDir, name), "container.json"), "utf8"),
    ) as ContainerRecord;
  } catch {
    throw new RunError(`no container "${name}" (strata ps lists them)`);
  }
  if (record.status !== "running") return record;
  if (record.detached === true) {
    const exitCode = await exitStatus(stateDir, name);
    if (exitCode !== undefined) return { ...record, status: "exited", exitCode };
  }
  if (await stillRunning(stateDir, record)) return record;
  const { exitCode: _unknown, ...rest } = record;
  return { ...rest, status: "exited" };
}

/**
 * Whether a container recorded as running still is: its `strata run` is alive, or runc still
 * has it (the `strata run` that started it was killed and the container ran on).
 */
async function stillRunning(stateDir: string, record: ContainerRecord): Promise<boolean> {
  if (record.pid === undefined || (await processAlive(record.pid, record.pidStart))) return true;
  const state = await runcState(stateDir, record.name);
  return state !== undefined && state !== "stopped";
}

export const withStart = (start: string | undefined) => (start === undefined ? {} : { pidStart: start });

/** The start time of a process (field 22 of /proc/PID/stat), or undefined when it is gone. */
export async function processStart(pid: number | "self"): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/** Whether `pid` is alive and, when its start time was recorded, still the same process. */
async function processAlive(pid: number, start: string | undefined): Promise<boolean> {
  const now = await processStart(pid);
  return now !== undefined && (start === undefined || now === start);
}

export async function writeRecord(stateDir: string, record: ContainerRecord): Promise<void> {
  const dir = containerDir(stateDir, record.name);
  await writeFile(join(dir, "container.json.tmp"), JSON.stringify(record));
  await rename(join(dir, "container.json.tmp"), join(dir, "container.json"));
}

/** A detached container's exit status, once its monitor has written it. */
export async function exitStatus(stateDir: string, name: string): Promise<number | undefined> {
  const text = await readFile(join(containerDir(stateDir, name), STATUS_FILE), "utf8").catch(() => undefined);
  const code = Number(text?.trim());
  return text === undefined || !Number.isInteger(code) ? undefined : code;
}
