// Errors of the VM domain. `serialTail` carries the end of the guest's serial console when the
// guest was started, so a failed boot shows what the guest said last.
export type VmErrorCode = "NOT_READY" | "GATE_FAILED" | "QEMU_FAILED" | "NOT_FOUND" | "USAGE";

export class VmError extends Error {
  override readonly name = "VmError";
  constructor(
    readonly code: VmErrorCode,
    message: string,
    readonly serialTail = "",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
