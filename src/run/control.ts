// Controlling containers from outside their `strata run`: signals (`kill`), a graceful stop
// with a deadline (`stop`), and a detached container's logs. Everything goes through runc's
// state, so it works for containers in the foreground of another terminal too.
import { open } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import { containerDir, readRecord } from "./records.ts";
import { RunError } from "./errors.ts";
import { runc } from "./runc.ts";

/** A signal's canonical name (SIGTERM) from TERM, SIGTERM, term or its number. */
export function signalName(text: string): string {
  const upper = text.toUpperCase();
  const named = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  if (named in constants.signals) return named;
  if (/^\d+$/.test(text)) {
    const found = Object.entries(constants.signals).find(([, n]) => n === Number(text));
    if (found !== undefined) return found[0];
  }
  throw new RunError(`unknown signal "${text}": use a name like TERM or KILL, or its number`, true);
}

/** Whether the container has ended (or is gone: a foreground one removes itself). */
async function ended(stateDir: string, name: string): Promise<boolean> {
  const record = await readRecord(stateDir, name).catch(() => undefined);
  return record === undefined || record.status !== "running";
}

/** Waits up to `ms` for the container to end; true when it has. */
export async function waitEnded(stateDir: string, name: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await ended(stateDir, name)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends a signal to the container's first process. */
export async function killContainer(stateDir: string, name: string, signal = "SIGKILL"): Promise<void> {
  const sig = signalName(signal);
  const record = await readRecord(stateDir, name);
  if (record.status !== "running") throw new RunError(`container "${name}" is not running`);
  const { code, stderr } = await runc(stateDir, ["kill", name, sig]);
  // Ended between the check and the signal: nothing left to signal.
  if (code === 0 || stderr.includes("not running") || stderr.includes("does not exist")) return;
  throw new RunError(`cannot signal container "${name}": ${stderr.trim() || `runc exited with ${code}`}`);
}

/**
 * Stops a container: its image's stop signal (StopSignal, else SIGTERM), then SIGKILL when it
 * has not ended after `timeoutSeconds`. Resolves to whether it had to be killed; a container
 * that is not running is left as it is.
 */
export async function stopContainer(
  stateDir: string,
  name: string,
  timeoutSeconds = 10,
): Promise<{ killed: boolean; wasRunning: boolean }> {
  const record = await readRecord(stateDir, name);
  if (record.status !== "running") return { killed: false, wasRunning: false };
  await killContainer(stateDir, name, record.config.config?.StopSignal ?? "SIGTERM");
  if (await waitEnded(stateDir, name, timeoutSeconds * 1000)) return { killed: false, wasRunning: true };
  await killContainer(stateDir, name, "SIGKILL");
  if (!(await waitEnded(stateDir, name, 10_000)))
    throw new RunError(`container "${name}" did not end after SIGKILL`);
  return { killed: true, wasRunning: true };
}

/** Copies what was appended to `path` from `offset` on; returns the new offset. */
async function copyFrom(path: string, offset: number, write: (chunk: Buffer) => void): Promise<number> {
  const file = await open(path, "r").catch(() => undefined);
  if (file === undefined) return offset;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      if (bytesRead === 0) return offset;
      write(Buffer.from(buffer.subarray(0, bytesRead)));
      offset += bytesRead;
    }
  } finally {
    await file.close();
  }
}

/**
 * Where the last `lines` lines of a file start (a final line without a newline counts), read
 * backwards in chunks so a long log is not read whole; 0 when it has no more lines than that.
 */
export async function tailOffset(path: string, lines: number): Promise<number> {
  const file = await open(path, "r").catch(() => undefined);
  if (file === undefined) return 0;
  try {
    const size = (await file.stat()).size;
    if (lines === 0) return size;
    const buffer = Buffer.alloc(64 * 1024);
    let end = size;
    // A newline that ends the file ends the last line; it does not start another one.
    let wanted = lines + 1;
    let skipLast = true;
    while (end > 0) {
      const start = Math.max(0, end - buffer.length);
      const { bytesRead } = await file.read(buffer, 0, end - start, start);
      for (let i = bytesRead - 1; i >= 0; i--) {
        if (buffer[i] !== 0x0a) {
          skipLast = false;
          continue;
        }
        if (skipLast) {
          skipLast = false;
          continue;
        }
        wanted -= 1;
        if (wanted === 1) return start + i + 1;
      }
      end = start;
    }
    return 0;
  } finally {
    await file.close();
  }
}

/**
 * Writes a detached container's output so far, standard output and error each to its own
 * stream (with `tail`, only the last that many lines of each); with `follow`, goes on until the
 * container ends.
 */
export async function containerLogs(
  stateDir: string,
  name: string,
  out: {
    stdout: (chunk: Buffer) => void;
    stderr: (chunk: Buffer) => void;
    follow?: boolean;
    tail?: number;
  },
): Promise<void> {
  const record = await readRecord(stateDir, name);
  if (record.detached !== true)
    throw new RunError(`container "${name}" was not started with --detach: its output went to strata run`);
  const dir = containerDir(stateDir, name);
  let [o, e] =
    out.tail === undefined
      ? [0, 0]
      : [
          await tailOffset(join(dir, "stdout.log"), out.tail),
          await tailOffset(join(dir, "stderr.log"), out.tail),
        ];
  for (;;) {
    // Read the status before the logs: output written before the end is always copied.
    const done = out.follow !== true || (await ended(stateDir, name));
    o = await copyFrom(join(dir, "stdout.log"), o, out.stdout);
    e = await copyFrom(join(dir, "stderr.log"), e, out.stderr);
    if (done) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
