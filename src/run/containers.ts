// Containers from images: layers unpacked once and shared as overlayfs lower layers (layers.ts);
// a container gets its own upper layer and runs in runc (launch.ts), in the foreground or
// detached under a monitor shell, and is removed when it exits unless kept or detached. A kept
// container remembers its root's state at start, so `commit` turns what it changed — additions,
// changes, deletions as whiteouts — into one reproducible layer on top of its image.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  appendLayer,
  BuildError,
  resolveInRoot,
  resolveUser,
  runtimeConfig,
  type EntryState,
  type Image,
  type RootReader,
} from "../builder/runtime.ts";
import { RunError } from "./errors.ts";
import { launch, launchDetached, type Stdio } from "./launch.ts";
import {
  containerDir,
  exitStatus,
  processStart,
  readRecord,
  STATUS_FILE,
  withStart,
  writeRecord,
  type ContainerRecord,
} from "./records.ts";
import { forgetRuncState, runcRoot, runcState } from "./runc.ts";
import { checkVolumes, type Volume } from "./volumes.ts";
import { exists, mountRoot, overlayOptions, readFromLayers, unmount, unpackLayers } from "./layers.ts";

export { RunError };
export type { ContainerRecord, Stdio };

export interface RunOptions {
  /** The state folder: layers/, containers/ and runc/. */
  readonly stateDir: string;
  readonly image: Image;
  /** How the image was named, for `ps`. */
  readonly imageName: string;
  readonly name?: string;
  /** Keep the container after it exits (default: removed). */
  readonly keep?: boolean;
  /** Replaces the image's Cmd. */
  readonly command?: readonly string[];
  /** Replaces the image's Entrypoint. */
  readonly entrypoint?: readonly string[];
  /** KEY=VALUE, added to (and overriding) the image's. */
  readonly env?: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly network?: "none" | "host";
  /** Give the container a terminal (runc makes it and relays it on its own standard streams). */
  readonly tty?: boolean;
  /** Host paths bound into the container (`-v`); checked before anything is created. */
  readonly volumes?: readonly Volume[];
  /** Empty writable tmpfs mounts (`--tmpfs`), absolute container paths. */
  readonly tmpfs?: readonly string[];
  /** cgroup limits: memory in bytes, processes, CPUs. */
  readonly limits?: { readonly memory?: number; readonly pids?: number; readonly cpus?: number };
  /** Mount the container's root read-only; volumes keep their own mode. */
  readonly readonlyRoot?: boolean;
  /** Start it in the background and return once it runs; it stays until removed. */
  readonly detach?: boolean;
  readonly stdio: Stdio;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** The process's arguments and environment from the image's config and the options. */
function processOf(options: RunOptions): { args: string[]; env: string[] } {
  const config = options.image.config.config ?? {};
  const entrypoint = options.entrypoint ?? config.Entrypoint ?? [];
  const cmd =
    options.command !== undefined && options.command.length > 0
      ? options.command
      : options.entrypoint !== undefined
        ? []
        : (config.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new RunError("the image names no command: give one after the image", true);
  const env = new Map<string, string>();
  for (const e of [
    ...(config.Env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
    ...(options.env ?? []),
  ]) {
    const eq = e.indexOf("=");
    if (eq <= 0) throw new RunError(`invalid environment variable "${e}": expected KEY=VALUE`, true);
    env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return { args, env: [...env].map(([k, v]) => `${k}=${v}`) };
}

/**
 * The uid and gid of a user, read from the layers' /etc/passwd and /etc/group without mounting;
 * `mounted` resolves it on a mounted root when a symlink lies on the way.
 */
async function userFromLayers(
  layerDirs: readonly string[],
  user: string | undefined,
  mounted: () => Promise<{ uid: number; gid: number }>,
): Promise<{ uid: number; gid: number }> {
  let unresolved = false;
  const read: RootReader = async (path) => {
    const text = await readFromLayers(layerDirs, path);
    if (text === "unresolved") unresolved = true;
    return typeof text === "string" && text !== "unresolved" ? text : "";
  };
  try {
    const found = await resolveUser(read, user);
    if (!unresolved) return found;
  } catch (error) {
    if (!unresolved) throw error;
  }
  return mounted();
}

/**
 * Runs a container in the foreground and returns its name and exit status, or with `detach`
 * starts it and returns once it runs (`running`) or has already ended (its exit status).
 */
export async function runContainer(
  options: RunOptions,
): Promise<{ name: string; exitCode: number; running: boolean }> {
  const name = options.name ?? randomBytes(6).toString("hex");
  if (!NAME_RE.test(name))
    throw new RunError(`invalid container name "${name}": letters, digits, _ . - (up to 128)`, true);
  const { args, env } = processOf(options);
  await checkVolumes(options.volumes ?? [], options.tmpfs ?? []);
  const { stateDir } = options;
  const dir = containerDir(stateDir, name);
  await mkdir(join(stateDir, "containers"), { recursive: true });
  try {
    await mkdir(dir);
  } catch {
    throw new RunError(`a container named "${name}" exists already (strata rm ${name})`, true);
  }
  const keep = options.keep === true;
  const detach = options.detach === true;
  const config = options.image.config.config ?? {};
  const merged = join(dir, "merged");
  let record: ContainerRecord | undefined;
  let mounted = false;
  // A detached container that started is left to its monitor.
  let started = false;
  try {
    const layerDirs = await unpackLayers(stateDir, options.image.layers);
    await Promise.all(["upper", "work", "merged"].map((d) => mkdir(join(dir, d))));
    const mountOptions = await overlayOptions(stateDir, dir, layerDirs);
    const cwd = options.workdir ?? (config.WorkingDir || "/");
    const userText = options.user ?? config.User;
    record = {
      name,
      pid: process.pid,
      ...withStart(await processStart("self")),
      image: options.imageName,
      config: options.image.config,
      layers: options.image.layers,
      command: args,
      created: new Date().toISOString(),
      status: "running",
      committable: keep,
      ...(detach ? { detached: true } : {}),
    };
    await writeRecord(stateDir, record);
    const mountHere = async () => {
      await mountRoot(mountOptions, merged);
      mounted = true;
    };
    let user;
    try {
      if (keep) {
        // The start state, for commit, is read off the mounted root.
        await mountHere();
        for (const d of ["proc", "dev", "sys"]) await mkdir(join(merged, d), { recursive: true });
        await mkdir(await resolveInRoot(merged, cwd, { followLast: true }), { recursive: true });
        const { snapshotTree } = await import("../builder/index.ts");
        await writeFile(join(dir, "start.json"), JSON.stringify([...(await snapshotTree(merged))]));
        user = await resolveUser(merged, userText);
        // runc mounts it again in a mount namespace of its own, as for every container.
        await unmount(merged);
        mounted = false;
      } else {
        user = await userFromLayers(layerDirs, userText, async () => {
          await mountHere();
          const found = await resolveUser(merged, userText);
          await unmount(merged);
          mounted = false;
          return found;
        });
      }
    } catch (error) {
      throw error instanceof BuildError ? new RunError(error.message) : error;
    }
    const runtime = runtimeConfig({
      root: merged,
      args,
      env,
      cwd,
      user,
      network: options.network ?? "none",
      hostname: name.slice(0, 63),
      terminal: options.tty === true,
      binds: options.volumes ?? [],
      tmpfs: options.tmpfs ?? [],
      readonlyRoot: options.readonlyRoot === true,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
    await writeFile(join(dir, "config.json"), JSON.stringify(runtime));
    if (detach) {
      const pid = await launchDetached({
        runcRoot: runcRoot(stateDir),
        id: name,
        bundle: dir,
        mount: { options: mountOptions, merged },
        statusFile: join(dir, STATUS_FILE),
        stdoutFile: join(dir, "stdout.log"),
        stderrFile: join(dir, "stderr.log"),
      });
      record = { ...record, pid, ...withStart(await processStart(pid)) };
      await writeRecord(stateDir, record);
      started = true;
      const exitCode = await untilStarted(stateDir, name);
      return { name, exitCode: exitCode ?? 0, running: exitCode === undefined };
    }
    const exitCode = await launch({
      runcRoot: runcRoot(stateDir),
      id: name,
      bundle: dir,
      mount: { options: mountOptions, merged },
      stdio: options.stdio,
    });
    record = { ...record, status: "exited", exitCode };
    if (keep) await writeRecord(stateDir, record);
    return { name, exitCode, running: false };
  } finally {
    if (mounted) await unmount(merged);
    if (!started) {
      await forgetRuncState(stateDir, name);
      if (!keep || record === undefined) await rm(dir, { recursive: true, force: true });
      else if (record.status === "running")
        await writeRecord(stateDir, { ...record, status: "exited", exitCode: 125 });
    }
  }
}

/**
 * Waits until runc runs a detached container, or it has already ended (its exit status);
 * gives up after `timeoutMs` with an error naming its log.
 */
async function untilStarted(stateDir: string, name: string, timeoutMs = 30_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = await exitStatus(stateDir, name);
    if (code !== undefined) return code;
    if ((await runcState(stateDir, name)) === "running") return undefined;
    if (Date.now() > deadline)
      throw new RunError(
        `container "${name}" did not start within ${timeoutMs / 1000} s (strata logs ${name})`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The containers kept in the state folder (and those running now). */
export async function listContainers(stateDir: string): Promise<ContainerRecord[]> {
  const names = await readdir(join(stateDir, "containers")).catch(() => [] as string[]);
  const out: ContainerRecord[] = [];
  for (const name of names.sort()) {
    const record = await readRecord(stateDir, name).catch(() => undefined);
    if (record !== undefined) out.push(record);
  }
  return out;
}

/** Removes a container that has ended; `force` kills a running one first. */
export async function removeContainer(stateDir: string, name: string, force = false): Promise<void> {
  let record = await readRecord(stateDir, name);
  if (record.status === "running" && force) {
    const { killContainer, waitEnded } = await import("./control.ts");
    await killContainer(stateDir, name, "SIGKILL");
    if (!(await waitEnded(stateDir, name, 10_000)))
      throw new RunError(`container "${name}" did not end after SIGKILL`);
    const after = await readRecord(stateDir, name).catch(() => undefined);
    if (after === undefined) return; // a foreground container removes itself
    record = after;
  }
  if (record.status === "running")
    throw new RunError(`container "${name}" is running (strata stop ${name}, or strata rm -f ${name})`);
  await forgetRuncState(stateDir, name);
  await unmount(join(containerDir(stateDir, name), "merged"));
  await rm(containerDir(stateDir, name), { recursive: true, force: true });
}

/**
 * The container's changes as a new image: its image plus one layer, with a history entry
 * (comment: the message) and the author. The layer file stays in the container's folder.
 */
export async function commitContainer(
  stateDir: string,
  name: string,
  options: { message?: string; author?: string; epoch?: number },
): Promise<Image> {
  const record = await readRecord(stateDir, name);
  if (record.status === "running")
    throw new RunError(`container "${name}" is running: commit it after it exits`);
  if (!record.committable)
    throw new RunError(`container "${name}" was not kept with --keep, so its start state is unknown`);
  const dir = containerDir(stateDir, name);
  const start = JSON.parse(await readFile(join(dir, "start.json"), "utf8")) as [string, EntryState][];
  for (const layer of record.layers)
    if (!(await exists(layer.path)))
      throw new RunError(
        `the image of container "${name}" is gone (layer ${layer.digest}): it cannot be committed`,
      );
  const { diffSnapshots, snapshotTree, writeLayer } = await import("../builder/index.ts");
  const layerDirs = await unpackLayers(stateDir, record.layers);
  const merged = join(dir, "merged");
  await mountRoot(await overlayOptions(stateDir, dir, layerDirs), merged);
  let layer;
  try {
    const after = await snapshotTree(merged);
    layer = await writeLayer(
      merged,
      after,
      diffSnapshots(new Map(start), after),
      join(dir, `commit-${Date.now()}.tar.gz`),
      options.epoch === undefined ? {} : { epoch: options.epoch },
    );
  } finally {
    await unmount(merged);
  }
  const created = new Date((options.epoch ?? Math.floor(Date.now() / 1000)) * 1000).toISOString();
  const base: Image = {
    config: {
      ...record.config,
      created,
      ...(options.author === undefined ? {} : { author: options.author }),
    },
    layers: record.layers,
  };
  return appendLayer(
    base,
    { ...layer, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
    {
      created,
      created_by: `strata commit ${name}`,
      ...(options.message === undefined ? {} : { comment: options.message }),
      ...(options.author === undefined ? {} : { author: options.author }),
    },
  );
}
