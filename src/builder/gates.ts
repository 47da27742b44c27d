// Test gates: checks an image must pass before it is released. Command tests run a command in
// a container of the image (runc, no network) and match its exit code and output; file tests
// look at the image's filesystem (existence, type, mode, content); metadata tests compare its
// config (environment, entrypoint, command, user, working directory, ports, labels).
import { lstat, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { resolveInRoot } from "./engine/paths.ts";
import { runInRoot } from "./engine/run.ts";
import type { Image } from "./image.ts";
import { extractLayer } from "./layer/index.ts";

export interface CommandGate {
  readonly name: string;
  /** Exec form, or a shell command run with /bin/sh -c. */
  readonly command: readonly string[] | string;
  readonly exitCode?: number;
  /** Regular expressions the output must match (and must not, for the `…Not` ones). */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly stdoutNot?: string;
}

export interface FileGate {
  readonly name: string;
  readonly path: string;
  /** Default true; false: the path must not exist. */
  readonly exists?: boolean;
  readonly type?: "file" | "directory" | "symlink";
  /** Octal, e.g. "0755". */
  readonly mode?: string;
  readonly contains?: string;
}

export interface MetadataGate {
  readonly name: string;
  readonly metadata: {
    readonly env?: Readonly<Record<string, string>>;
    readonly entrypoint?: readonly string[];
    readonly cmd?: readonly string[];
    readonly user?: string;
    readonly workingDir?: string;
    readonly exposedPorts?: readonly string[];
    readonly labels?: Readonly<Record<string, string>>;
  };
}

export type Gate = CommandGate | FileGate | MetadataGate;

export interface GateResult {
  readonly name: string;
  readonly passed: boolean;
  /** What failed, in words; empty when passed. */
  readonly failures: readonly string[];
}

const isCommand = (g: Gate): g is CommandGate => "command" in g;
const isFile = (g: Gate): g is FileGate => "path" in g;

function regex(pattern: string, gate: string): RegExp {
  try {
    return new RegExp(pattern, "m");
  } catch (error) {
    throw new Error(
      `gate "${gate}": invalid pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Runs every gate against the image; unpacks it once into `workDir`. */
export async function runGates(
  image: Image,
  gates: readonly Gate[],
  options: { workDir: string },
): Promise<GateResult[]> {
  let root: string | undefined;
  const unpack = async (): Promise<string> => {
    if (root !== undefined) return root;
    const target = join(options.workDir, "gates-root");
    await mkdir(target, { recursive: true });
    for (const [i, layer] of image.layers.entries())
      await extractLayer(layer.path, target, { name: `layer ${i + 1}` });
    root = target;
    return target;
  };
  const results: GateResult[] = [];
  for (const gate of gates) {
    const failures: string[] = [];
    if (isCommand(gate)) {
      const r = await unpack();
      const config = image.config.config ?? {};
      const args = typeof gate.command === "string" ? ["/bin/sh", "-c", gate.command] : [...gate.command];
      let stdout = "";
      let stderr = "";
      const outcome = await runInRoot({
        root: r,
        args,
        env: config.Env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        cwd: config.WorkingDir || "/",
        ...(config.User === undefined ? {} : { user: config.User }),
        network: "none",
        workDir: options.workDir,
        output: (chunk) => (stdout += chunk.toString("utf8")),
        stderr: (chunk) => (stderr += chunk.toString("utf8")),
      });
      const want = gate.exitCode ?? 0;
      if (outcome.exitCode !== want) failures.push(`exit code ${outcome.exitCode}, expected ${want}`);
      if (gate.stdout !== undefined && !regex(gate.stdout, gate.name).test(stdout))
        failures.push(`stdout does not match /${gate.stdout}/: ${JSON.stringify(stdout.slice(0, 200))}`);
      if (gate.stdoutNot !== undefined && regex(gate.stdoutNot, gate.name).test(stdout))
        failures.push(`stdout matches /${gate.stdoutNot}/`);
      if (gate.stderr !== undefined && !regex(gate.stderr, gate.name).test(stderr))
        failures.push(`stderr does not match /${gate.stderr}/: ${JSON.stringify(stderr.slice(0, 200))}`);
    } else if (isFile(gate)) {
      const r = await unpack();
      const path = await resolveInRoot(r, gate.path);
      const stats = await lstat(path).catch(() => undefined);
      const shouldExist = gate.exists ?? true;
      if (stats === undefined) {
        if (shouldExist) failures.push(`${gate.path} does not exist`);
      } else if (!shouldExist) {
        failures.push(`${gate.path} exists`);
      } else {
        const type = stats.isDirectory()
          ? "directory"
          : stats.isSymbolicLink()
            ? "symlink"
            : stats.isFile()
              ? "file"
              : "other";
        if (gate.type !== undefined && type !== gate.type)
          failures.push(`${gate.path} is a ${type}, expected a ${gate.type}`);
        if (gate.mode !== undefined && (stats.mode & 0o7777) !== parseInt(gate.mode, 8)) {
          failures.push(
            `${gate.path} has mode ${(stats.mode & 0o7777).toString(8).padStart(4, "0")}, expected ${gate.mode}`,
          );
        }
        if (gate.contains !== undefined) {
          const text = type === "file" ? await readFile(path, "utf8") : "";
          if (!regex(gate.contains, gate.name).test(text))
            failures.push(`${gate.path} does not contain /${gate.contains}/`);
        }
      }
    } else {
      const config = image.config.config ?? {};
      const want = gate.metadata;
      const env = new Map(
        (config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      );
      for (const [k, v] of Object.entries(want.env ?? {}))
        if (env.get(k) !== v)
          failures.push(`env ${k} is ${JSON.stringify(env.get(k) ?? null)}, expected ${JSON.stringify(v)}`);
      const same = (a: readonly string[] | undefined, b: readonly string[]) =>
        JSON.stringify(a ?? []) === JSON.stringify(b);
      if (want.entrypoint !== undefined && !same(config.Entrypoint, want.entrypoint))
        failures.push(
          `entrypoint is ${JSON.stringify(config.Entrypoint ?? [])}, expected ${JSON.stringify(want.entrypoint)}`,
        );
      if (want.cmd !== undefined && !same(config.Cmd, want.cmd))
        failures.push(`cmd is ${JSON.stringify(config.Cmd ?? [])}, expected ${JSON.stringify(want.cmd)}`);
      if (want.user !== undefined && (config.User ?? "") !== want.user)
        failures.push(`user is ${JSON.stringify(config.User ?? "")}, expected ${JSON.stringify(want.user)}`);
      if (want.workingDir !== undefined && (config.WorkingDir ?? "") !== want.workingDir)
        failures.push(
          `working directory is ${JSON.stringify(config.WorkingDir ?? "")}, expected ${JSON.stringify(want.workingDir)}`,
        );
      for (const port of want.exposedPorts ?? []) {
        const key = port.includes("/") ? port : `${port}/tcp`;
        if (config.ExposedPorts?.[key] === undefined) failures.push(`port ${key} is not exposed`);
      }
      for (const [k, v] of Object.entries(want.labels ?? {}))
        if (config.Labels?.[k] !== v)
          failures.push(
            `label ${k} is ${JSON.stringify(config.Labels?.[k] ?? null)}, expected ${JSON.stringify(v)}`,
          );
    }
    results.push({ name: gate.name, passed: failures.length === 0, failures });
  }
  return results;
}
