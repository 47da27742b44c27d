// The `startup` section of `npm run bench`: starts each server several times on an empty data
// folder and measures the time from spawning it to its first 200 answer to GET /v2/, the CPU time
// it used until then, and its resident memory after it has idled a few seconds. A bare Node.js
// HTTP server answering /v2/ is the reference: the floor for any server written for Node.
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDistributionConfig } from "../test/helpers/distribution.ts";
import { freePort } from "../test/helpers/ports.ts";
import { cpuMs } from "./cpu.ts";
import { median } from "./stats.ts";

const BIN = new URL("../bin/strata.js", import.meta.url).pathname;
const POLL_MS = 5;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export type StartupSide = "node" | "strata" | "distribution";

interface Launcher {
  readonly side: StartupSide;
  readonly label: string;
  /** Writes what the server needs into `dir` and returns its command line. */
  prepare(dir: string, port: number): Promise<{ command: string; args: string[] }>;
}

const BARE_NODE = `require("node:http").createServer((q, s) => { s.setHeader("content-type", "application/json"); s.end("{}"); }).listen(Number(process.argv[1]), "127.0.0.1")`;

export const LAUNCHERS: readonly Launcher[] = [
  {
    side: "node",
    label: "node -e (bare http server)",
    prepare: async (_dir, port) => ({ command: process.execPath, args: ["-e", BARE_NODE, String(port)] }),
  },
  {
    side: "strata",
    label: "strata serve",
    prepare: async (dir, port) => ({
      command: process.execPath,
      args: [BIN, "serve", "--addr", `127.0.0.1:${port}`, "--data", join(dir, "data"), "--log-level", "warn"],
    }),
  },
  {
    side: "distribution",
    label: "Distribution 2.8",
    prepare: async (dir, port) => ({
      command: "docker-registry",
      args: ["serve", await writeDistributionConfig(dir, port)],
    }),
  },
];

export interface StartupSample {
  /** Spawn to the first 200 answer of GET /v2/, ms. */
  readonly firstAnswerMs: number;
  /** CPU time (user + system) the process had used at its first answer, ms. */
  readonly cpuMs: number;
  /** VmRSS after idling, MiB. */
  readonly idleRssMiB: number;
}

export interface StartupSideResult {
  readonly side: StartupSide;
  readonly label: string;
  readonly samples: readonly StartupSample[];
  readonly firstAnswerMs: number;
  readonly cpuMs: number;
  readonly idleRssMiB: number;
}

export interface StartupResult {
  readonly runs: number;
  readonly idleMs: number;
  readonly sides: readonly StartupSideResult[];
}

/** Resolves with the status of GET url, or undefined when nothing answers yet. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode));
    });
    req.once("error", () => resolve(undefined));
    req.setTimeout(2_000, () => req.destroy());
    req.end();
  });
}

async function rssMiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m?.[1] === undefined ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** One start of one server on an empty data folder. */
async function startOnce(launcher: Launcher, idleMs: number): Promise<StartupSample> {
  const dir = await mkdtemp(join(tmpdir(), `strata-startup-${launcher.side}-`));
  const port = await freePort();
  let child: ChildProcess | undefined;
  // If the benchmark ends early (an error, Ctrl-C), the server must not outlive it.
  const kill = (): void => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", kill);
  try {
    const { command, args } = await launcher.prepare(dir, port);
    const url = `http://127.0.0.1:${port}/v2/`;
    const started = performance.now();
    const proc = spawn(command, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < 10_000) stderr += d.toString("utf8");
    });
    const pid = proc.pid ?? 0;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${launcher.label} exited before it answered: ${stderr}`);
      }
      if (performance.now() - started > START_TIMEOUT_MS) {
        throw new Error(`${launcher.label} did not answer "${url}" within ${START_TIMEOUT_MS} ms: ${stderr}`);
      }
      if ((await probe(url)) === 200) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const firstAnswerMs = performance.now() - started;
    const cpu = await cpuMs(pid);
    await new Promise((r) => setTimeout(r, idleMs));
    const idleRssMiB = await rssMiB(pid);
    return { firstAnswerMs, cpuMs: cpu, idleRssMiB };
  } finally {
    if (child !== undefined) await stop(child);
    process.removeListener("exit", kill);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Starts every server `runs` times, interleaved (node, Strata, Distribution, node, …) so that a
 * busy moment of the machine lands on all of them alike.
 */
export async function measureStartup(
  options: { runs: number; idleMs: number },
  progress: (line: string) => void = () => undefined,
): Promise<StartupResult> {
  const samples = new Map<StartupSide, StartupSample[]>(LAUNCHERS.map((l) => [l.side, []]));
  // Ctrl-C ends the run through process.exit, whose "exit" handlers stop the server started last.
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await startAll(options, samples, progress);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  return {
    runs: options.runs,
    idleMs: options.idleMs,
    sides: LAUNCHERS.map((l) => {
      const s = samples.get(l.side) ?? [];
      return {
        side: l.side,
        label: l.label,
        samples: s,
        firstAnswerMs: median(s.map((x) => x.firstAnswerMs)),
        cpuMs: median(s.map((x) => x.cpuMs)),
        idleRssMiB: median(s.map((x) => x.idleRssMiB)),
      };
    }),
  };
}

async function startAll(
  { runs, idleMs }: { runs: number; idleMs: number },
  samples: Map<StartupSide, StartupSample[]>,
  progress: (line: string) => void,
): Promise<void> {
  for (let run = 0; run < runs; run++) {
    for (const launcher of LAUNCHERS) {
      const sample = await startOnce(launcher, idleMs);
      samples.get(launcher.side)?.push(sample);
      progress(
        `startup ${run + 1}/${runs} ${launcher.side}: first answer ${sample.firstAnswerMs.toFixed(0)} ms, ` +
          `CPU ${sample.cpuMs.toFixed(0)} ms, idle RSS ${sample.idleRssMiB.toFixed(1)} MiB`,
      );
    }
  }
}
