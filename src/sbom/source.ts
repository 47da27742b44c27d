// Where catalogers read from: a small read-only view of a root filesystem. Two implementations:
// a directory on disk (dir-source.ts) and an image's layers read without unpacking them
// (layer-source.ts). Paths are absolute inside the root (`/var/lib/dpkg/status`); symlinks are
// followed inside the root, never out of it.

export interface FileSource {
  /** For messages: the directory, or the image digest. */
  readonly name: string;
  /**
   * The file's bytes, undefined when there is none (or it is not a regular file). A file larger
   * than `maxBytes` is an error naming it.
   */
  readFile(path: string, maxBytes: number): Promise<Buffer | undefined>;
  /** The names in a folder, sorted; undefined when there is no such folder. */
  list(path: string): Promise<string[] | undefined>;
}

/** Most symlinks followed to resolve one path (Linux's own limit). */
export const MAX_SYMLINKS = 40;

/** `/a/./b//c/../d` → ["a", "b", "d"]; `..` above the root stays at the root. */
export function pathParts(path: string): string[] {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts;
}

/** What a path is, as `resolvePath` needs to know it. */
export type Node =
  | { readonly kind: "dir" }
  | { readonly kind: "file" }
  | { readonly kind: "other" }
  | { readonly kind: "symlink"; readonly target: string };

/**
 * `path` with every symlink in it followed, inside the root (an absolute target starts at the
 * root, `..` stops there): the resolved path ("/" joined) and what is there, or undefined when
 * nothing is, or when more than MAX_SYMLINKS links were followed (a loop).
 */
export async function resolvePath(
  path: string,
  lookup: (path: string) => Promise<Node | undefined>,
): Promise<{ path: string; node: Node } | undefined> {
  let pending = pathParts(path);
  const done: string[] = [];
  let node: Node = { kind: "dir" };
  let links = 0;
  while (pending.length > 0) {
    const [part = "", ...rest] = pending;
    const here = `/${[...done, part].join("/")}`;
    const found = await lookup(here);
    if (found === undefined) return undefined;
    if (found.kind === "symlink") {
      if (++links > MAX_SYMLINKS) return undefined;
      const target = pathParts(
        found.target.startsWith("/") ? found.target : `${done.join("/")}/${found.target}`,
      );
      done.length = 0;
      pending = [...target, ...rest];
      node = { kind: "dir" };
      continue;
    }
    if (rest.length > 0 && found.kind !== "dir") return undefined;
    done.push(part);
    pending = rest;
    node = found;
  }
  return { path: `/${done.join("/")}`, node };
}
