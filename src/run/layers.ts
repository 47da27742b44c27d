// An image's layers as overlayfs lower directories: each layer is unpacked once into the state
// folder, keyed by its chain (the layers below it and itself), renamed into place when complete
// and shared by every container of every image with that chain. Whiteouts become what
// overlayfs reads: a 0:0 character device for a deleted path, and one for every name the lower
// layers have in an opaque directory.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LayerBlob } from "../builder/runtime.ts";
import { RunError } from "./errors.ts";
import { layerChains } from "./layer-chains.ts";

const exec = promisify(execFile);

/** True when something is at `path` (a symlink or a whiteout device counts; nothing is followed). */
export const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** The layers' directories, bottom layer first, unpacking those not unpacked yet. */
export async function unpackLayers(stateDir: string, layers: readonly LayerBlob[]): Promise<string[]> {
  const dirs: string[] = [];
  const chains = layerChains(layers.map((layer) => layer.diffId));
  for (const [i, layer] of layers.entries()) {
    const dir = join(stateDir, "layers", chains[i] ?? "");
    if (!(await exists(dir))) await unpackLayer(layer, i, dir, dirs);
    dirs.push(dir);
  }
  return dirs;
}

async function unpackLayer(
  layer: LayerBlob,
  i: number,
  dir: string,
  below: readonly string[],
): Promise<void> {
  const { extractLayer } = await import("../builder/index.ts");
  const parent = join(dir, "..");
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.tmp-${randomBytes(6).toString("hex")}`);
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
            (await Promise.all(below.map((d) => readdir(join(d, path)).catch(() => [] as string[])))).flat(),
          )
        : new Set([path.slice(path.lastIndexOf("/") + 1)]);
      const parentPath = opaque ? path : path.slice(0, Math.max(0, path.lastIndexOf("/")));
      for (const name of names) {
        const target = join(tmp, parentPath, name);
        if (!(await exists(target))) devices.push(target);
      }
    }
    for (const device of devices) await exec("mknod", [device, "c", "0", "0"]);
    await rename(tmp, dir).catch((error: NodeJS.ErrnoException) => {
      // Another run unpacked it meanwhile: theirs is as good.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The overlayfs mount options for a container folder (upper/ and work/ in it) on these layers.
 * Paths with a comma or colon cannot be told apart in them, so they are refused.
 */
export async function overlayOptions(
  stateDir: string,
  containerDir: string,
  layerDirs: readonly string[],
): Promise<string> {
  let lower = [...layerDirs].reverse();
  if (lower.length === 0) {
    const empty = join(stateDir, "layers", "empty");
    await mkdir(empty, { recursive: true });
    lower = [empty];
  }
  if (/[,:]/.test(stateDir))
    throw new RunError(`the state folder "${stateDir}" has a comma or colon, which overlayfs cannot take`);
  return `lowerdir=${lower.join(":")},upperdir=${join(containerDir, "upper")},workdir=${join(containerDir, "work")}`;
}

/** Mounts a container's root in this process's mount namespace (for snapshots and commits). */
export async function mountRoot(options: string, merged: string): Promise<void> {
  try {
    await exec("mount", ["-t", "overlay", "overlay", "-o", options, merged]);
  } catch (error) {
    throw new RunError(
      `cannot mount the container's root (overlayfs): ${(error as { stderr?: string }).stderr?.trim() ?? (error as Error).message}`,
    );
  }
}

export async function unmount(merged: string): Promise<void> {
  await exec("umount", [merged]).catch(() => undefined);
}

/**
 * A file of the layered root as overlayfs would show it, read from the layer directories
 * without mounting: the topmost layer that has it wins, and a whiteout hides it. Returns
 * "unresolved" when a symlink lies on the way, which only a mounted root can follow.
 */
export async function readFromLayers(
  layerDirs: readonly string[],
  path: string,
): Promise<string | undefined | "unresolved"> {
  const parts = path.split("/").filter((p) => p !== "");
  for (const dir of [...layerDirs].reverse()) {
    let at = dir;
    for (const [i, part] of parts.entries()) {
      at = join(at, part);
      const info = await lstat(at).catch(() => undefined);
      if (info === undefined) break;
      if (info.isSymbolicLink()) return "unresolved";
      if (info.isCharacterDevice() && info.rdev === 0) return undefined;
      const last = i === parts.length - 1;
      if (last) return info.isFile() ? readFile(at, "utf8") : undefined;
      if (!info.isDirectory()) return undefined;
    }
  }
  return undefined;
}
