// A root filesystem as a map from path to "kind mode uid:gid" (kind: dir, link:TARGET,
// file:SHA256 or other), for comparing two unpacked images entry by entry.
import { createHash } from "node:crypto";
import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export async function fileTree(
  root: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      if (skip.has(path)) continue;
      const stats = await lstat(join(root, path));
      const kind = stats.isDirectory()
        ? "dir"
        : stats.isSymbolicLink()
          ? `link:${await readlink(join(root, path))}`
          : stats.isFile()
            ? `file:${createHash("sha256")
                .update(await readFile(join(root, path)))
                .digest("hex")}`
            : "other";
      out.set(path, `${kind} ${(stats.mode & 0o7777).toString(8)} ${stats.uid}:${stats.gid}`);
      if (stats.isDirectory()) await walk(path);
    }
  }
  await walk("");
  return out;
}
