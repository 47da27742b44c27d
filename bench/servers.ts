// Starts the two registries under comparison on loopback, each with its own temporary data
// folder: Strata (`strata serve`) and Debian's docker-registry (CNCF Distribution). With
// `peerOnly` a second Distribution stands in for Strata, to check the benchmark itself.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { startDistribution } from "../test/helpers/distribution.ts";
import { startStrata } from "../test/helpers/strata-server.ts";
import { createClient, type Client } from "./client.ts";
import { policyYaml } from "./policy-setup.ts";
import { sampleRss, type RssSampler } from "./rss.ts";

export type Side = "strata" | "distribution";

export interface Target {
  readonly side: Side;
  /** What actually runs on this side, for the report. */
  readonly label: string;
  readonly url: string;
  readonly pid: number;
  readonly client: Client;
  readonly rss: RssSampler;
  /** Stops the server and removes its data; safe to call twice. */
  stop(): Promise<void>;
}

interface Running {
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function wrap(side: Side, label: string, server: Running): Target {
  const client = createClient(server.url);
  const rss = sampleRss(server.pid);
  let stopped: Promise<void> | undefined;
  // If the benchmark dies without cleaning up, the server must not outlive it.
  const onExit = (): void => {
    try {
      process.kill(server.pid, "SIGKILL");
    } catch {
      // already gone
    }
    rmSync(server.dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  return {
    side,
    label,
    url: server.url,
    pid: server.pid,
    client,
    rss,
    stop() {
      stopped ??= (async () => {
        rss.stop();
        client.close();
        // A server already ended (Ctrl-C reaches the whole process group) only needs its data removed.
        if (isAlive(server.pid)) {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<"timeout">(
            (r) => (timer = setTimeout(() => r("timeout"), STOP_TIMEOUT_MS)),
          );
          const outcome = await Promise.race([server.stop().then(() => "stopped" as const), timeout]);
          clearTimeout(timer);
          if (outcome === "timeout") onExit();
        }
        rmSync(server.dir, { recursive: true, force: true });
        process.removeListener("exit", onExit);
      })();
      return stopped;
    },
  };
}

/**
 * Bundles dist/ so that Strata is measured as installed: bin/strata.js runs the bundle only while
 * it matches the sources, and the TypeScript sources through tsx otherwise.
 */
export async function bundleStrata(): Promise<void> {
  const script = new URL("../scripts/bundle.mjs", import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, [script]);
  process.stderr.write(stdout);
}

export async function startStrataTarget(): Promise<Target> {
  // An enforce pull policy scoped to bench-policy/** (the manifest-read-policy scenario).
  const s = await startStrata({ args: ["--log-level", "warn"], config: policyYaml() });
  // The helper keeps the data folder inside a temporary root; remove the root.
  return wrap("strata", "Strata", { url: s.url, pid: s.pid, dir: dirname(s.dataDir), stop: () => s.stop() });
}

/**
 * Strata with pull counting off, in the peer's slot: the scenario comparing usage on with off
 * (manifest-read-usage-c4) runs against the Strata side and this one.
 */
export async function startStrataUsageOffTarget(): Promise<Target> {
  // The Strata side's configuration (its pull policy included), with pull counting off.
  const config = `${policyYaml()}\nusage:\n  enabled: false\n`;
  const s = await startStrata({ args: ["--log-level", "warn"], config });
  return wrap("distribution", "Strata, usage off", {
    url: s.url,
    pid: s.pid,
    dir: dirname(s.dataDir),
    stop: () => s.stop(),
  });
}

export async function startDistributionTarget(side: Side): Promise<Target> {
  const d = await startDistribution({ deleteEnabled: true });
  const label = side === "strata" ? "Distribution (stand-in)" : "Distribution 2.8";
  return wrap(side, label, { url: d.url, pid: d.pid, dir: d.dataDir, stop: () => d.stop() });
}
