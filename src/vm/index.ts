// VMs in QEMU: boot tests with gates inside the guest, and machines started from disks.
export { VmError, type VmErrorCode } from "./errors.ts";
