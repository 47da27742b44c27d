// Runs a child process with a bounded lifetime and collects its output, for tests that drive
// real tools (skopeo, umoci, runc). A process still running at its deadline is killed.
import { spawn } from "node:child_process";

export interface RunOptions {
  /** Written to the process's standard input, which is then closed. */
  readonly input?: string | Buffer;
  /** Added to (and overriding) the test process's environment. */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Default 120 s. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  /** Exit code; -1 when the process was ended by a signal (including the timeout). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

export async function run(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child = spawn(cmd, args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outSize = 0;
  let errSize = 0;
  child.stdout.on("data", (d: Buffer) => {
    if (outSize < MAX_OUTPUT) out.push(d);
    outSize += d.length;
  });
  child.stderr.on("data", (d: Buffer) => {
    if (errSize < MAX_OUTPUT) err.push(d);
    errSize += d.length;
  });
  child.stdin.on("error", () => {
    // The process may exit before reading its input; its exit code tells the story.
  });
  child.stdin.end(options.input ?? "");
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (status: number | null) => resolve(status ?? -1));
    });
    return {
      code,
      stdout: Buffer.concat(out).toString("utf8"),
      stderr: Buffer.concat(err).toString("utf8") + (timedOut ? `\n(killed after ${timeoutMs} ms)` : ""),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Like run, but throws (with the command line and its stderr) unless the exit code is 0. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(
      `Command failed with exit code ${result.code}: ${[cmd, ...args].join(" ")}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result;
}
