// A root filesystem as metadata: path → type, size, mode, owner, content digest, link target —
// never contents. Layers are applied to it as the image spec says: an entry replaces what was at
// its path (a directory over a directory keeps its children), a whiteout removes a path and
// everything under it, an opaque directory hides what lower layers had in it; whiteouts affect
// only lower layers, never entries of their own layer. Paths are relative, without a leading "/".

export type FileType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

export interface FileEntry {
  readonly type: FileType;
  /** Bytes of content: a file's, or for a hard link its target's; 0 for the other types. */
  readonly size: number;
  /** Permission bits with setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** sha256 of the content (hex), for files and for hard links whose target was read. */
  readonly sha256?: string;
  /** A symlink's target as written, or the path a hard link links to. */
  readonly linkTarget?: string;
  /** "major:minor" for character and block devices. */
  readonly device?: string;
}

/** One record of a layer, in the layer's order. */
export type LayerRecord =
  | { readonly kind: "entry"; readonly path: string; readonly entry: FileEntry }
  | { readonly kind: "whiteout"; readonly path: string }
  | { readonly kind: "opaque"; readonly path: string };

const IMPLICIT_DIR: FileEntry = { type: "dir", size: 0, mode: 0o755, uid: 0, gid: 0 };

const parentOf = (path: string): string => {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
};

export class FileTree {
  private readonly entries = new Map<string, FileEntry>();
  /** Directory (""= root) → the paths directly in it. */
  private readonly children = new Map<string, Set<string>>();

  get size(): number {
    return this.entries.size;
  }

  get(path: string): FileEntry | undefined {
    return this.entries.get(path);
  }

  paths(): IterableIterator<string> {
    return this.entries.keys();
  }

  clone(): FileTree {
    const copy = new FileTree();
    for (const [path, entry] of this.entries) copy.entries.set(path, entry);
    for (const [dir, names] of this.children) copy.children.set(dir, new Set(names));
    return copy;
  }

  /** Applies one layer's records, in order. */
  applyLayer(records: readonly LayerRecord[]): void {
    const written = new Set<string>();
    for (const record of records) if (record.kind === "entry") written.add(record.path);
    for (const record of records) {
      if (record.kind === "entry") this.put(record.path, record.entry);
      else if (record.kind === "whiteout") {
        if (!written.has(record.path)) this.remove(record.path, written);
      } else this.hideBelow(record.path, written);
    }
  }

  private put(path: string, given: FileEntry): void {
    let entry = given;
    // A hard link has its target's content (when the target was read).
    if (entry.type === "hardlink" && entry.linkTarget !== undefined) {
      const target = this.entries.get(entry.linkTarget);
      if (target?.sha256 !== undefined) entry = { ...entry, size: target.size, sha256: target.sha256 };
    }
    const existing = this.entries.get(path);
    if (existing?.type === "dir" && entry.type !== "dir") this.removeChildren(path, undefined);
    if (existing === undefined) this.ensureParents(path);
    this.entries.set(path, entry);
  }

  /** Registers `path` in its directory, creating missing directories (0755, root) as tar does. */
  private ensureParents(path: string): void {
    let child = path;
    let dir = parentOf(path);
    for (;;) {
      let names = this.children.get(dir);
      if (names === undefined) {
        names = new Set();
        this.children.set(dir, names);
      }
      names.add(child);
      if (dir === "" || this.entries.has(dir)) return;
      this.entries.set(dir, IMPLICIT_DIR);
      child = dir;
      dir = parentOf(dir);
    }
  }

  /** Removes `path` and everything under it, except paths in `keep` (and their parents). */
  private remove(path: string, keep: ReadonlySet<string> | undefined): void {
    if (!this.entries.has(path)) return;
    const kept = this.removeChildren(path, keep);
    if (kept) return;
    this.entries.delete(path);
    this.children.get(parentOf(path))?.delete(path);
  }

  /** Removes what is under `dir` except `keep`; true when something was kept. */
  private removeChildren(dir: string, keep: ReadonlySet<string> | undefined): boolean {
    const names = this.children.get(dir);
    if (names === undefined) return false;
    let kept = false;
    for (const child of [...names]) {
      if (keep?.has(child) === true) {
        kept = true;
        // An entry of this layer stays; what lower layers had under it goes, unless also written here.
        if (this.entries.get(child)?.type === "dir") this.removeChildren(child, keep);
        continue;
      }
      if (this.removeChildren(child, keep)) {
        kept = true;
        continue;
      }
      this.entries.delete(child);
      names.delete(child);
    }
    if (names.size === 0) this.children.delete(dir);
    return kept;
  }

  /** An opaque directory: what lower layers had in `dir` is hidden. */
  private hideBelow(dir: string, written: ReadonlySet<string>): void {
    this.removeChildren(dir, written);
  }
}
