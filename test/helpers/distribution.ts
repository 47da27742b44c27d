// Starts Debian's docker-registry (CNCF Distribution 2.8) on loopback with its own data folder,
// for tests and benchmarks that compare against or copy through a real peer registry.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForHttp } from "./ports.ts";

export interface RunningDistribution {
  readonly url: string;
  /** host:port, as skopeo's docker:// references want it. */
  readonly host: string;
  readonly pid: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * Writes `DIR/config.yml` for Distribution on 127.0.0.1:PORT with its data in `DIR/data`, access
 * log off and log level error (deletes enabled unless told otherwise).
 */
export async function writeDistributionConfig(
  dir: string,
  port: number,
  options: { deleteEnabled?: boolean } = {},
): Promise<string> {
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    `    enabled: ${options.deleteEnabled ?? true}`,
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "",
  ].join("\n");
  const path = join(dir, "config.yml");
  await writeFile(path, config);
  return path;
}

export async function startDistribution(
  options: { deleteEnabled?: boolean } = {},
): Promise<RunningDistribution> {
  const dir = await mkdtemp(join(tmpdir(), "strata-distribution-"));
  const port = await freePort();
  const config = await writeDistributionConfig(dir, port, options);
  const child: ChildProcess = spawn("docker-registry", ["serve", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v2/`);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`docker-registry did not start: ${stderr}`, { cause: error });
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    dataDir: dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
