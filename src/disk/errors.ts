// Errors of the disk domain. `code` says what kind of problem it is; the message says what was
// wrong and what to do about it.
export type DiskErrorCode =
  | "NOT_BOOTABLE" // the image lacks a kernel or an init
  | "BAD_DISK" // a disk file that is not what it claims, truncated or inconsistent
  | "HOSTILE_DISK" // a disk file that names other files (backing files, extents, data files)
  | "TOO_LARGE" // over a configured limit
  | "TOOL_FAILED" // an external tool (mke2fs, qemu-img, …) failed
  | "USAGE"; // how it was asked

export class DiskError extends Error {
  override readonly name = "DiskError";
  constructor(
    readonly code: DiskErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
