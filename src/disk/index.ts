// VM disks: a bootable disk from an image root, its formats, import checks and its artifact.
export { DiskError, type DiskErrorCode } from "./errors.ts";
export { DEFAULT_DISK_LIMITS, inspectDiskFile, type DiskFileInfo, type DiskLimits } from "./import.ts";
