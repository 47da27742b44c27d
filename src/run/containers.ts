// Containers from images: each layer is unpacked once into the state folder (by diff ID, renamed
// into place when complete) and shared between containers as overlayfs lower layers; a container
// gets its own upper layer, runs in runc, and is removed when it exits unless kept. A kept
// container remembers its root's state at start, so `commit` turns what it changed — additions,
// changes, deletions as whiteouts — into one reproducible layer on top of its image.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  appendLayer,
  BuildError,
  diffSnapshots,
  extractLayer,
  resolveInRoot,
  runInRoot,
  snapshotTree,
  writeLayer,
  type EntryState,
  type Image,
  type LayerBlob,
} from "../build/index.ts";

const exec = promisify(execFile);

export class RunError extends Error {
  override readonly name = "RunError";
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly config: Image["config"];
  readonly layers: readonly LayerBlob[];
  readonly command: readonly string[];
  readonly created: string;
  readonly status: "running" | "exited";
  readonly exitCode?: number;
  /** Kept containers only: the root's state at start, for commit. */
  readonly committable: boolean;
}

export interface RunOptions {
  /** The state folder: layers/ and containers/. */
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
  readonly stdout: (chunk: Buffer) => void;
  readonly stderr: (chunk: Buffer) => void;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const containerDir = (state: string, name: string) => join(state, "containers", name);
/** True when something is at `path` (a symlink or a whiteout device counts; nothing is followed). */
const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/**
 * Unpacks each layer once, keyed by its chain (the layers below it and itself), so the whiteouts
 * it carries can be made for overlayfs against exactly the layers below: a deleted path becomes
 * an overlay whiteout (a 0:0 character device), an opaque directory a whiteout for every name
 * the lower layers have in it. Returns the directories, bottom layer first.
 */
async function unpackLayers(stateDir: string, layers: readonly LayerBlob[]): Promise<string[]> {
  const dirs: string[] = [];
  await mkdir(join(stateDir, "layers"), { recursive: true });
  let chain = "";
  for (const [i, layer] of layers.entries()) {
    chain =
      i === 0
        ? layer.diffId
        : `sha256:${createHash("sha256").update(`${chain} ${layer.diffId}`).digest("hex")}`;
    const dir = join(stateDir, "layers", chain.replace(/^sha256:/, ""));
    if (!(await exists(dir))) {
      const tmp = join(stateDir, "layers", `.tmp-${randomBytes(6).toString("hex")}`);
      await mkdir(tmp);
      try {
        const hidden: { path: string; opaque: boolean }[] = [];
        await extractLayer(layer.path, tmp, {
          name: `layer ${i + 1}`,
          onWhiteout: (path, opaque) => hidden.push({ path, opaque }),
        });
        const devices: string[] = [];
        for (const { path, opaque } of hidden) {
          const names = opaque
            ? new Set(
                (
                  await Promise.all(dirs.map((d) => readdir(join(d, path)).catch(() => [] as string[])))
                ).flat(),
              )
            : new Set([path.slice(path.lastIndexOf("/") + 1)]);
          const parent = opaque ? path : path.slice(0, Math.max(0, path.lastIndexOf("/")));
          for (const name of names) {
            const target = join(tmp, parent, name);
            if (!(await exists(target))) devices.push(target);
          }
        }
        for (const device of devices) await exec("mknod", [device, "c", "0", "0"]);
        await rename(tmp, dir).catch(async (error: NodeJS.ErrnoException) => {
          // Another run unpacked it meanwhile: theirs is as good.
          if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
        });
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    dirs.push(dir);
  }
  return dirs;
}

async function mountRoot(stateDir: string, dir: string, layerDirs: readonly string[]): Promise<string> {
  const merged = join(dir, "merged");
  let lower = [...layerDirs].reverse();
  if (lower.length === 0) {
    const empty = join(stateDir, "layers", "empty");
    await mkdir(empty, { recursive: true });
    lower = [empty];
  }
  const options = `lowerdir=${lower.join(":")},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`;
  try {
    await exec("mount", ["-t", "overlay", "overlay", "-o", options, merged]);
  } catch (error) {
    throw new RunError(
      `cannot mount the container's root (overlayfs): ${(error as { stderr?: string }).stderr?.trim() ?? (error as Error).message}`,
    );
  }
  return merged;
}

async function unmount(merged: string): Promise<void> {
  await exec("umount", [merged]).catch(() => undefined);
}

async function readRecord(stateDir: string, name: string): Promise<ContainerRecord> {
  try {
    return JSON.parse(
      await readFile(join(containerDir(stateDir, name), "container.json"), "utf8"),
    ) as ContainerRecord;
  } catch {
    throw new RunError(`no container "${name}" (strata ps lists them)`);
  }
}

async function writeRecord(stateDir: string, record: ContainerRecord): Promise<void> {
  const dir = containerDir(stateDir, record.name);
  await writeFile(join(dir, "container.json.tmp"), JSON.stringify(record));
  await rename(join(dir, "container.json.tmp"), join(dir, "container.json"));
}

/** Paths runc mounts over, made before the start snapshot so they are no change. */
async function prepareRoot(root: string, cwd: string): Promise<void> {
  for (const d of ["proc", "dev", "sys"]) await mkdir(join(root, d), { recursive: true });
  await mkdir(await resolveInRoot(root, cwd, { followLast: true }), { recursive: true });
}

/** Runs a container; returns its name and exit code. */
export async function runContainer(options: RunOptions): Promise<{ name: string; exitCode: number }> {
  const name = options.name ?? randomBytes(6).toString("hex");
  if (!NAME_RE.test(name))
    throw new RunError(`invalid container name "${name}": letters, digits, _ . - (up to 128)`, true);
  const dir = containerDir(options.stateDir, name);
  await mkdir(join(options.stateDir, "containers"), { recursive: true });
  try {
    await mkdir(dir);
  } catch {
    throw new RunError(`a container named "${name}" exists already (strata rm ${name})`, true);
  }
  const config = options.image.config.config ?? {};
  const entrypoint = options.entrypoint ?? config.Entrypoint ?? [];
  const cmd =
    options.command !== undefined && options.command.length > 0
      ? options.command
      : options.entrypoint !== undefined
        ? []
        : (config.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  const keep = options.keep === true;
  let record: ContainerRecord | undefined;
  let merged: string | undefined;
  try {
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
    const layerDirs = await unpackLayers(options.stateDir, options.image.layers);
    await mkdir(join(dir, "upper"));
    await mkdir(join(dir, "work"));
    await mkdir(join(dir, "merged"));
    merged = await mountRoot(options.stateDir, dir, layerDirs);
    const cwd = options.workdir ?? (config.WorkingDir || "/");
    record = {
      name,
      image: options.imageName,
      config: options.image.config,
      layers: options.image.layers,
      command: args,
      created: new Date().toISOString(),
      status: "running",
      committable: keep,
    };
    await writeRecord(options.stateDir, record);
    if (keep) {
      await prepareRoot(merged, cwd);
      const before = await snapshotTree(merged);
      await writeFile(join(dir, "start.json"), JSON.stringify([...before]));
    }
    const user = options.user ?? config.User;
    const outcome = await runInRoot({
      root: merged,
      args,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd,
      ...(user === undefined || user === "" ? {} : { user }),
      network: options.network ?? "none",
      workDir: dir,
      output: options.stdout,
      stderr: options.stderr,
    }).catch((error: unknown) => {
      throw error instanceof BuildError ? new RunError(error.message) : error;
    });
    record = { ...record, status: "exited", exitCode: outcome.exitCode };
    if (keep) await writeRecord(options.stateDir, record);
    return { name, exitCode: outcome.exitCode };
  } finally {
    if (merged !== undefined) await unmount(merged);
    if (!keep || record === undefined) await rm(dir, { recursive: true, force: true });
    else if (record.status === "running")
      await writeRecord(options.stateDir, { ...record, status: "exited", exitCode: 125 });
  }
}

/** The containers kept in the state folder. */
export async function listContainers(stateDir: string): Promise<ContainerRecord[]> {
  const names = await readdir(join(stateDir, "containers")).catch(() => [] as string[]);
  const out: ContainerRecord[] = [];
  for (const name of names.sort()) {
    const record = await readRecord(stateDir, name).catch(() => undefined);
    if (record !== undefined) out.push(record);
  }
  return out;
}

export async function removeContainer(stateDir: string, name: string): Promise<void> {
  const record = await readRecord(stateDir, name);
  if (record.status === "running") throw new RunError(`container "${name}" is running`);
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
  const merged = await mountRoot(stateDir, dir, await unpackLayers(stateDir, record.layers));
  let layer;
  try {
    const after = await snapshotTree(merged);
    layer = await writeLayer(
      merged,
      after,
      diffSnapshots(new Map(start), after),
      join(dir, `commit-${Date.now()}.tar.gz`),
      {
        ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
      },
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
