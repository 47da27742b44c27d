// Paths inside a root, resolved as the root's own processes would see them: symlinks are
// followed relative to the root (never to the host's /), and `..` never climbs above it.
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../errors.ts";

const MAX_LINKS = 40;

/** The host path of `path` (absolute in the root's terms) inside `root`, symlinks resolved within it. */
export async function resolveInRoot(
  root: string,
  path: string,
  options: { followLast?: boolean } = {},
): Promise<string> {
  const pending = path.split("/").filter((p) => p !== "" && p !== ".");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? "";
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const isLast = pending.length === 0;
    const stats = await lstat(candidate).catch(() => undefined);
    if (stats?.isSymbolicLink() === true && (!isLast || options.followLast === true)) {
      if (++links > MAX_LINKS) throw new BuildError(`too many levels of symbolic links in "${path}"`);
      const target = await readlink(candidate);
      const targetParts = target.split("/").filter((p) => p !== "" && p !== ".");
      if (target.startsWith("/")) resolved.length = 0;
      pending.unshift(...targetParts);
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}
