// A root filesystem in a directory on disk as a FileSource: symlinks are followed inside that
// directory, never out of it.
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { SbomError } from "./errors.ts";
import { resolvePath, type FileSource, type Node } from "./source.ts";

async function lookup(root: string, path: string): Promise<Node | undefined> {
  const full = join(root, path);
  const stats = await lstat(full).catch(() => undefined);
  if (stats === undefined) return undefined;
  if (stats.isSymbolicLink()) return { kind: "symlink", target: await readlink(full) };
  if (stats.isDirectory()) return { kind: "dir" };
  return stats.isFile() ? { kind: "file" } : { kind: "other" };
}

export function dirSource(root: string): FileSource {
  const find = (path: string) => resolvePath(path, (p) => lookup(root, p));
  return {
    name: root,
    async readFile(path, maxBytes) {
      const found = await find(path);
      if (found?.node.kind !== "file") return undefined;
      const handle = await open(join(root, found.path), "r");
      try {
        const { size } = await handle.stat();
        if (size > maxBytes)
          throw new SbomError(`is larger than ${maxBytes} bytes (${size})`, { file: path });
        // Read one byte more than allowed: a file that grew since stat is still caught.
        const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
        let read = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buffer, read, buffer.length - read, read);
          if (bytesRead === 0) break;
          read += bytesRead;
          if (read === buffer.length) break;
        }
        if (read > maxBytes) throw new SbomError(`is larger than ${maxBytes} bytes`, { file: path });
        return buffer.subarray(0, read);
      } finally {
        await handle.close();
      }
    },
    async list(path) {
      const found = await find(path);
      if (found?.node.kind !== "dir") return undefined;
      return (await readdir(join(root, found.path))).sort();
    },
  };
}
