// Runs the real `strata serve` binary as a child process on a free loopback port with its own
// temporary data folder, for tests that drive it with real clients (skopeo, umoci, a peer).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const BIN = join(ROOT, "bin", "strata.js");
const MAX_OUTPUT = 64 * 1024;

export interface StartStrataOptions {
  /** strata.yaml text, passed with --config. */
  readonly config?: string;
  /** Added to the test process's environment. */
  readonly env?: Record<string, string>;
  /** Extra arguments after `serve --addr … --data …`. */
  readonly args?: readonly string[];
  /** How long to wait for GET /v2/ to answer (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface RunningStrata {
  readonly url: string;
  /** host:port, as skopeo's docker:// references want it. */
  readonly host: string;
  /** The server's --data folder. */
  readonly dataDir: string;
  /** Process id of the current server process (changes on restart). */
  readonly pid: number;
  /** The last 64 KiB of the server's stdout and stderr. */
  output(): string;
  /** Ends the server with SIGTERM and removes its folders. */
  stop(): Promise<void>;
  /** Ends the server with SIGKILL, keeping its data for restart(). */
  kill9(): Promise<void>;
  /** Stops the server if it runs (SIGTERM) and starts it again on the same port and data. */
  restart(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startStrata(options: StartStrataOptions = {}): Promise<RunningStrata> {
  const root = await mkdtemp(join(tmpdir(), "strata-e2e-"));
  const dataDir = join(root, "data");
  await mkdir(dataDir);
  const configArgs: string[] = [];
  if (options.config !== undefined) {
    await writeFile(join(root, "strata.yaml"), options.config);
    configArgs.push("--config", join(root, "strata.yaml"));
  }
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  let output = "";
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    child?.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  async function spawnServer(): Promise<void> {
    const proc = spawn(
      process.execPath,
      [BIN, "serve", "--addr", host, "--data", dataDir, ...configArgs, ...(options.args ?? [])],
      { cwd: root, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    const capture = (d: Buffer): void => {
      output += d.toString("utf8");
      if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
    };
    proc.stdout?.on("data", capture);
    proc.stderr?.on("data", capture);
    const closed = new Promise((resolve) => proc.once("close", resolve));
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await closed; // all of its output has arrived
        throw new Error(
          `strata serve exited (code ${proc.exitCode ?? proc.signalCode}) before it answered: ${output}`,
        );
      }
      try {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    proc.kill("SIGKILL");
    await exited(proc);
    throw new Error(`strata serve did not answer at "${url}/v2/" within ${timeoutMs} ms: ${output}`);
  }

  async function terminate(signal: NodeJS.Signals): Promise<void> {
    if (child === undefined) return;
    const proc = child;
    const done = exited(proc);
    proc.kill(signal);
    // A server that does not finish its shutdown within 10 s is killed.
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await done;
    clearTimeout(timer);
  }

  try {
    await spawnServer();
  } catch (error) {
    process.removeListener("exit", killOnExit);
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    host,
    dataDir,
    get pid() {
      return child?.pid ?? 0;
    },
    output: () => output,
    async stop() {
      await terminate("SIGTERM");
      process.removeListener("exit", killOnExit);
      await rm(root, { recursive: true, force: true });
    },
    async kill9() {
      await terminate("SIGKILL");
    },
    async restart() {
      await terminate("SIGTERM");
      await spawnServer();
    },
  };
}
