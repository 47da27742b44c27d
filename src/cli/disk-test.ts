// The boot test the CLI runs before a disk is published: QEMU on a throwaway overlay, ready
// within a bounded time, then the template's gates inside the guest. A guest that never gets
// ready or a failing gate stops the release, and the error ends with the guest's serial console.
import type { BootMode, ImageFormat } from "../disk/index.ts";
import type { GuestGate } from "../vm/index.ts";
import { CliError } from "./errors.ts";
import type { Progress } from "./progress.ts";

export interface DiskTestOptions {
  readonly boot: BootMode;
  readonly gates: readonly GuestGate[];
  readonly readyTimeout?: number;
  readonly memoryMiB?: number;
  /** The disk's kernel, for the KVM probe (else the host's, else TCG). */
  readonly kernel?: string;
}

export async function bootTestDisk(
  disk: { path: string; format: ImageFormat | "iso" },
  options: DiskTestOptions,
  progress: Progress,
) {
  const vm = await import("../vm/index.ts");
  let result;
  try {
    result = await vm.bootTest(disk, options);
  } catch (error) {
    const e = error as { name?: string; message?: string; serialTail?: string };
    if (e.name === "VmError")
      throw new CliError(
        `${e.message ?? "the boot test failed"}\n--- serial console (last lines) ---\n${e.serialTail ?? ""}`,
        1,
      );
    throw error;
  }
  progress.line(`  ready after ${result.readySeconds.toFixed(1)} s (${result.accel})`);
  const failed = result.gates.filter((g) => !g.ok);
  for (const g of result.gates)
    progress.line(`  ${g.ok ? "PASS" : "FAIL"} ${g.name}${g.ok ? "" : `: ${g.detail}`}`);
  if (failed.length > 0)
    throw new CliError(
      `${failed.length} of ${result.gates.length} guest tests failed (${failed.map((g) => g.name).join(", ")}): nothing was published\n--- serial console (last lines) ---\n${result.serialTail}`,
      1,
    );
  return result;
}
