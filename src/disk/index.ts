// VM disks: a bootable disk from an image root, its formats, import checks and its artifact.
export { DiskError, type DiskErrorCode } from "./errors.ts";
export { makeLiveIso, type LiveIsoInput } from "./iso.ts";
