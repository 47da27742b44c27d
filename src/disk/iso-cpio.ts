// A writer of cpio archives in the "newc" format (SVR4 without checksums), the format the Linux
// kernel unpacks as an initramfs. Each entry is a 110-byte ASCII header of hexadecimal fields, the
// NUL-terminated name, padding to 4 bytes, the data, padding to 4 bytes; the archive ends with an
// entry named TRAILER!!!. Inode numbers and times are fixed by the caller, so the same entries
// always give the same bytes.
import { DiskError } from "./errors.ts";

export type CpioEntry =
  | { readonly kind: "dir"; readonly path: string; readonly mode?: number }
  | { readonly kind: "file"; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string };

export interface CpioOptions {
  /** Modification time of every entry, seconds since the epoch; default 0. */
  readonly mtime?: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MAGIC = "070701";
const TRAILER = "TRAILER!!!";

/** The newc archive of the entries, in the order given, with inode numbers 1, 2, … */
export function writeNewc(entries: readonly CpioEntry[], options: CpioOptions = {}): Buffer {
  const mtime = options.mtime ?? 0;
  if (!Number.isInteger(mtime) || mtime < 0 || mtime > 0xffffffff) {
    throw new DiskError(
      "USAGE",
      `Cannot write cpio archive: mtime ${mtime} is not a 32-bit count of seconds`,
    );
  }
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (chunk: Buffer) => {
    parts.push(chunk);
    offset += chunk.length;
  };
  const pad = () => {
    const n = (4 - (offset % 4)) % 4;
    if (n > 0) push(Buffer.alloc(n));
  };
  const add = (name: string, ino: number, mode: number, nlink: number, data: Uint8Array) => {
    const nameBytes = Buffer.from(`${name}\0`, "utf8");
    const fields = [ino, mode, 0, 0, nlink, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    push(Buffer.from(MAGIC + fields.map((v) => v.toString(16).padStart(8, "0")).join(""), "ascii"));
    push(nameBytes);
    pad();
    if (data.length > 0) push(Buffer.from(data.buffer, data.byteOffset, data.length));
    pad();
  };
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const name = checkPath(entry.path);
    if (seen.has(name)) throw new DiskError("USAGE", `Cannot write cpio archive: "${name}" is listed twice`);
    seen.add(name);
    const ino = index + 1;
    switch (entry.kind) {
      case "dir":
        add(name, ino, S_IFDIR | permissions(entry.mode ?? 0o755), 2, new Uint8Array());
        break;
      case "file":
        add(name, ino, S_IFREG | permissions(entry.mode ?? 0o644), 1, entry.data);
        break;
      case "symlink":
        add(name, ino, S_IFLNK | 0o777, 1, Buffer.from(entry.target, "utf8"));
        break;
    }
  });
  add(TRAILER, 0, 0, 1, new Uint8Array());
  return Buffer.concat(parts, offset);
}

/** A relative path without "." or ".." segments; a leading "/" is dropped, as cpio -H newc does. */
function checkPath(path: string): string {
  const name = path.replace(/^\/+/, "");
  const segments = name.split("/");
  if (name === "" || name === TRAILER || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new DiskError("USAGE", `Cannot write cpio archive: path "${path}" is not a plain relative path`);
  }
  if (name.includes("\0"))
    throw new DiskError("USAGE", `Cannot write cpio archive: path "${path}" has a NUL`);
  return name;
}

function permissions(mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new DiskError(
      "USAGE",
      `Cannot write cpio archive: mode ${mode.toString(8)} is not a permission mode`,
    );
  }
  return mode;
}
