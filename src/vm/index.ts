// VMs in QEMU: boot tests with gates inside the guest, and machines started from disks.
export { type Accel, probeAccel, type ProbeOptions } from "./accel.ts";
export {
  type BootDisk,
  type BootStage,
  bootTest,
  type BootTestOptions,
  type BootTestResult,
} from "./boot-test.ts";
export { VmError, type VmErrorCode } from "./errors.ts";
export { assertGatesPassed, type GateResult, type GuestGate, validateGates } from "./gates.ts";
export { stripAnsi, serialTail } from "./serial.ts";
export type { VmBootMode, VmDiskFormat } from "./tools.ts";
export {
  inspectVm,
  listVms,
  removeVm,
  runVm,
  type RunVmOptions,
  stopVm,
  type StopOptions,
  type VmBase,
  type VmInfo,
  type VmRecord,
  vmLogs,
} from "./machines.ts";
