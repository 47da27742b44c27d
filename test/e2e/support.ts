// Shared pieces of the real-client tests: the registry under test (Strata's binary; set
// STRATA_E2E_REGISTRY=distribution to run the same tests against Distribution as a baseline),
// skopeo with an isolated, empty credential store, and temporary work folders.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDistribution } from "../helpers/distribution.ts";
import { run, runOk, type RunResult } from "../helpers/exec.ts";
import { startStrata } from "../helpers/strata-server.ts";

export interface RegistryUnderTest {
  readonly name: "strata" | "distribution";
  readonly url: string;
  /** host:port for docker:// references. */
  readonly host: string;
  /** Server output, for assertion messages. */
  output(): string;
  stop(): Promise<void>;
}

export async function startRegistryUnderTest(options: { config?: string } = {}): Promise<RegistryUnderTest> {
  if (process.env["STRATA_E2E_REGISTRY"] === "distribution") {
    const dist = await startDistribution();
    return {
      name: "distribution",
      url: dist.url,
      host: dist.host,
      output: () => "",
      stop: () => dist.stop(),
    };
  }
  const strata = await startStrata(options.config === undefined ? {} : { config: options.config });
  return {
    name: "strata",
    url: strata.url,
    host: strata.host,
    output: () => strata.output(),
    stop: () => strata.stop(),
  };
}

/** A temporary folder and a function that removes it. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `strata-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

// No stored credentials: every login is the one a test passes on the command line.
const skopeoEnv = { REGISTRY_AUTH_FILE: join(tmpdir(), "strata-e2e-no-auth.json") };
const SKOPEO_TIMEOUT_MS = 120_000;

/** skopeo, returning the result whatever the exit code. */
export function skopeo(args: readonly string[]): Promise<RunResult> {
  return run("skopeo", ["--command-timeout", "100s", ...args], {
    env: skopeoEnv,
    timeoutMs: SKOPEO_TIMEOUT_MS,
  });
}

/** skopeo, throwing with its stderr unless it succeeds. */
export function skopeoOk(args: readonly string[]): Promise<RunResult> {
  return runOk("skopeo", ["--command-timeout", "100s", ...args], {
    env: skopeoEnv,
    timeoutMs: SKOPEO_TIMEOUT_MS,
  });
}

/** `skopeo copy` between any two references, TLS verification off for loopback registries. */
export function copy(src: string, dest: string, extra: readonly string[] = []): Promise<RunResult> {
  return skopeoOk(["copy", "--src-tls-verify=false", "--dest-tls-verify=false", ...extra, src, dest]);
}

/**
 * podman on vfs storage of its own under `dir` (root and runroot), as the tests run it without a
 * daemon or overlay; `ok` throws with its stderr unless it succeeds.
 */
export function podman(dir: string, args: readonly string[], ok = false): Promise<RunResult> {
  const storage = [
    "--storage-driver",
    "vfs",
    "--root",
    join(dir, "podman"),
    "--runroot",
    join(dir, "podman-run"),
  ];
  return (ok ? runOk : run)("podman", [...storage, ...args], { timeoutMs: 120_000 });
}
