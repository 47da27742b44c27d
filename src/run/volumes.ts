// Bind mounts for `strata run -v HOST:CONTAINER[:ro|rw]`: parsed and checked before anything is
// created, so a bad volume leaves no container behind.
import { stat } from "node:fs/promises";
import { posix, resolve } from "node:path";
import { RunError } from "./errors.ts";

export interface Volume {
  /** An absolute path on the host. */
  readonly source: string;
  /** An absolute, normalized path in the container. */
  readonly destination: string;
  readonly readonly: boolean;
}

/** Parses `HOST:CONTAINER[:ro|rw]`; a relative host path is taken from `cwd`. */
export function parseVolume(text: string, cwd: string): Volume {
  const parts = text.split(":");
  const mode = parts.length === 3 ? parts[2] : "rw";
  const [host, container] = parts;
  if (parts.length < 2 || parts.length > 3 || !host || !container)
    throw new RunError(`invalid volume "${text}": expected HOST:CONTAINER[:ro|rw]`, true);
  if (mode !== "ro" && mode !== "rw")
    throw new RunError(`invalid volume "${text}": the mode is ro or rw, not "${mode}"`, true);
  const destination = containerPath(container, `volume "${text}"`);
  return { source: resolve(cwd, host), destination, readonly: mode === "ro" };
}

/** An absolute path in the container other than its root, normalized; `what` names it in errors. */
export function containerPath(path: string, what: string): string {
  if (!path.startsWith("/")) throw new RunError(`invalid ${what}: the container path must be absolute`, true);
  if (path.split("/").includes(".."))
    throw new RunError(`invalid ${what}: the container path may not contain ".."`, true);
  const normalized = posix.normalize(path).replace(/(.)\/$/, "$1");
  if (normalized === "/")
    throw new RunError(`invalid ${what}: the container's root cannot be mounted over`, true);
  return normalized;
}

/** Refuses volumes whose host path does not exist, and two mounts on one container path. */
export async function checkVolumes(volumes: readonly Volume[], tmpfs: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  for (const path of tmpfs) {
    if (seen.has(path)) throw new RunError(`two mounts on ${path}`, true);
    seen.add(path);
  }
  for (const v of volumes) {
    if (seen.has(v.destination)) throw new RunError(`two mounts on ${v.destination}`, true);
    seen.add(v.destination);
    const info = await stat(v.source).catch(() => undefined);
    if (info === undefined) throw new RunError(`volume source ${v.source} does not exist`, true);
    if (!info.isDirectory() && !info.isFile())
      throw new RunError(`volume source ${v.source} is neither a file nor a directory`, true);
  }
}
