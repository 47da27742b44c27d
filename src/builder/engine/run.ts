// RUN: executes a command on a stage's root filesystem inside runc (Debian's), as the image's
// user, in its working directory, with its environment and the stage's build args; no network
// unless asked for (--network=host). The process gets a fresh /proc, /dev and /sys that are
// mounts, not part of the root, so they never end up in a layer.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../errors.ts";
import { resolveInRoot } from "./paths.ts";

export interface RunSpec {
  readonly root: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** `uid[:gid]` or names from the root's /etc/passwd and /etc/group; default root. */
  readonly user?: string;
  readonly network: "none" | "host";
  /** Scratch folder for the bundle and runc's state. */
  readonly workDir: string;
  /** Receives the command's output as it comes (standard error too, unless `stderr` is given). */
  readonly output?: (chunk: Buffer) => void;
  /** Receives standard error apart from standard output. */
  readonly stderr?: (chunk: Buffer) => void;
}

export interface RunOutcome {
  readonly exitCode: number;
  /** The last 4 KiB of combined output, for error messages. */
  readonly tail: string;
}

const CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_MKNOD",
  "CAP_AUDIT_WRITE",
  "CAP_SETFCAP",
];

/** Reads a file of a root filesystem as text, or "" when it is not there. */
export type RootReader = (path: string) => Promise<string>;

const rootReader =
  (root: string): RootReader =>
  async (path) =>
    readFile(await resolveInRoot(root, path, { followLast: true }), "utf8").catch(() => "");

/** A numeric id, or the id `name` has in the root's /etc/passwd or /etc/group. */
export async function lookupId(
  root: string | RootReader,
  file: string,
  name: string,
): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Number(name);
  const read = typeof root === "string" ? rootReader(root) : root;
  for (const line of (await read(file)).split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && /^\d+$/.test(fields[2] ?? "")) return Number(fields[2]);
  }
  return undefined;
}

/** The uid and gid a USER value names in this root (a folder, or a reader of its files). */
export async function resolveUser(
  root: string | RootReader,
  user: string | undefined,
): Promise<{ uid: number; gid: number }> {
  if (user === undefined || user === "") return { uid: 0, gid: 0 };
  const read = typeof root === "string" ? rootReader(root) : root;
  const [name = "", group] = user.split(":");
  const uid = await lookupId(read, "/etc/passwd", name);
  if (uid === undefined) throw new BuildError(`USER "${name}" is not in the image's /etc/passwd`);
  let gid: number | undefined;
  if (group !== undefined) {
    gid = await lookupId(read, "/etc/group", group);
    if (gid === undefined) throw new BuildError(`group "${group}" is not in the image's /etc/group`);
  } else if (/^\d+$/.test(name)) {
    gid = uid;
  } else {
    const entry = (await read("/etc/passwd")).split("\n").find((l) => l.startsWith(`${name}:`));
    gid = Number(entry?.split(":")[3] ?? uid);
  }
  return { uid, gid };
}

/** What an OCI runtime config needs beyond the defaults: the process and its root. */
export interface RuntimeSpec {
  readonly root: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly network: "none" | "host";
  readonly hostname: string;
  /** Give the process a terminal (the runtime makes it and relays its own). */
  readonly terminal?: boolean;
  /** Host files or directories bound into the container, after the standard mounts. */
  readonly binds?: readonly { source: string; destination: string; readonly: boolean }[];
  /** Empty tmpfs mounts (writable, mode 1777), after the binds. */
  readonly tmpfs?: readonly string[];
  /** Mount the root read-only (binds keep their own mode). */
  readonly readonlyRoot?: boolean;
  /** cgroup limits: memory in bytes, the number of processes, CPUs (fractions allowed). */
  readonly limits?: { readonly memory?: number; readonly pids?: number; readonly cpus?: number };
}

const CPU_PERIOD = 100_000;

/** The runtime spec's linux.resources for the limits, or nothing when none is set. */
function resources(limits: RuntimeSpec["limits"]): object {
  if (limits === undefined) return {};
  const { memory, pids, cpus } = limits;
  if (memory === undefined && pids === undefined && cpus === undefined) return {};
  return {
    resources: {
      ...(memory === undefined ? {} : { memory: { limit: memory } }),
      ...(pids === undefined ? {} : { pids: { limit: pids } }),
      ...(cpus === undefined ? {} : { cpu: { quota: Math.round(cpus * CPU_PERIOD), period: CPU_PERIOD } }),
    },
  };
}

/**
 * The runtime config (config.json) for runc: its own pid, ipc, uts and mount namespaces (and
 * network unless host), a fresh /proc, /dev and /sys, the default capability set, no new
 * privileges.
 */
export function runtimeConfig(spec: RuntimeSpec): object {
  const namespaces = [
    { type: "pid" },
    { type: "ipc" },
    { type: "uts" },
    { type: "mount" },
    ...(spec.network === "none" ? [{ type: "network" }] : []),
  ];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: spec.terminal === true,
      user: spec.user,
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd,
      capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: spec.root, readonly: spec.readonlyRoot === true },
    hostname: spec.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      ...(spec.binds ?? []).map((b) => ({
        destination: b.destination,
        type: "bind",
        source: b.source,
        options: ["rbind", "rprivate", b.readonly ? "ro" : "rw"],
      })),
      ...(spec.tmpfs ?? []).map((destination) => ({
        destination,
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "mode=1777"],
      })),
    ],
    linux: {
      ...resources(spec.limits),
      namespaces,
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

export async function runInRoot(spec: RunSpec): Promise<RunOutcome> {
  const id = `strata-build-${process.pid}-${randomBytes(6).toString("hex")}`;
  const bundle = join(spec.workDir, id);
  const state = join(spec.workDir, "runc-state");
  await mkdir(bundle, { recursive: true });
  await mkdir(state, { recursive: true });
  // Mount points must exist; creating them here (not by runc) keeps them out of the diff when
  // the base already has them, and they are directories either way.
  for (const dir of ["proc", "dev", "sys"]) await mkdir(join(spec.root, dir), { recursive: true });
  await mkdir(await resolveInRoot(spec.root, spec.cwd, { followLast: true }), { recursive: true });
  const user = await resolveUser(spec.root, spec.user);
  const config = runtimeConfig({ ...spec, user, hostname: "strata-build" });
  await writeFile(join(bundle, "config.json"), JSON.stringify(config));
  try {
    return await new Promise<RunOutcome>((resolve, reject) => {
      const child = spawn("runc", ["--root", state, "run", "--bundle", bundle, id], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let tail = "";
      const take = (deliver: ((chunk: Buffer) => void) | undefined) => (chunk: Buffer) => {
        deliver?.(chunk);
        tail = (tail + chunk.toString("utf8")).slice(-4096);
      };
      child.stdout.on("data", take(spec.output));
      child.stderr.on("data", take(spec.stderr ?? spec.output));
      child.on("error", (error) =>
        reject(
          new BuildError(`cannot start runc: ${(error as NodeJS.ErrnoException).code ?? error.message}`, {
            cause: error,
          }),
        ),
      );
      child.on("close", (code, signal) => resolve({ exitCode: code ?? (signal === null ? 1 : 128), tail }));
    });
  } finally {
    await new Promise<void>((resolve) => {
      const cleanup = spawn("runc", ["--root", state, "delete", "-f", id], { stdio: "ignore" });
      cleanup.on("close", () => resolve());
      cleanup.on("error", () => resolve());
    });
    await rm(bundle, { recursive: true, force: true });
  }
}
