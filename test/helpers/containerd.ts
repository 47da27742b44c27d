// A containerd daemon of the test's own: its root, state, socket and configuration in a temporary
// folder, only the plugins a pull needs (no CRI), driven with `ctr`. Started within a bounded
// time, and ended (SIGTERM, then SIGKILL) by stop(), which removes its folder.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runOk, type RunResult } from "./exec.ts";

export interface Containerd {
  /** The daemon's gRPC socket. */
  readonly address: string;
  /** `ctr --address … ARGS`, whatever its exit code. */
  ctr(args: readonly string[]): Promise<RunResult>;
  /** `ctr --address … ARGS`, throwing with its stderr unless it succeeds. */
  ctrOk(args: readonly string[]): Promise<RunResult>;
  /** The daemon's last 64 KiB of output, for assertion messages. */
  output(): string;
  stop(): Promise<void>;
}

const MAX_OUTPUT = 64 * 1024;

export async function startContainerd(timeoutMs = 30_000): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), "strata-containerd-"));
  const root = join(dir, "root");
  const state = join(dir, "state");
  const address = join(dir, "containerd.sock");
  await mkdir(join(dir, "opt"));
  const config = join(dir, "config.toml");
  await writeFile(
    config,
    [
      "version = 2",
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(state)}`,
      `temp = ${JSON.stringify(join(dir, "tmp"))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = ${JSON.stringify(address)}`,
      "[ttrpc]",
      `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
      '[debug]\n  address = ""',
      '[metrics]\n  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(join(dir, "opt"))}`,
      "",
    ].join("\n"),
  );
  await mkdir(join(dir, "tmp"));
  const daemon = spawn("containerd", ["--config", config, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const capture = (d: Buffer): void => {
    output = (output + d.toString("utf8")).slice(-MAX_OUTPUT);
  };
  daemon.stdout.on("data", capture);
  daemon.stderr.on("data", capture);
  const exited = new Promise<void>((resolve) => daemon.once("exit", () => resolve()));
  const killOnExit = (): void => void daemon.kill("SIGKILL");
  process.once("exit", killOnExit);

  const ctr = (args: readonly string[]): Promise<RunResult> =>
    run("ctr", ["--address", address, ...args], { timeoutMs: 120_000 });

  async function stop(): Promise<void> {
    process.removeListener("exit", killOnExit);
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill("SIGTERM");
      const timer = setTimeout(() => daemon.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      await stop();
      throw new Error(`containerd exited before it answered: ${output}`);
    }
    if ((await ctr(["version"])).code === 0) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`containerd did not answer on "${address}" within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    ctr,
    ctrOk: (args) => runOk("ctr", ["--address", address, ...args], { timeoutMs: 120_000 }),
    output: () => output,
    stop,
  };
}
