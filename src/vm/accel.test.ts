import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { KERNEL_PROGRESS_RE, probeAccel, probeArgs, resetAccelCache } from "./accel.ts";
import { VmError } from "./errors.ts";

afterEach(() => {
  delete process.env["STRATA_VM_ACCEL"];
  resetAccelCache();
});

test("STRATA_VM_ACCEL chooses the accelerator without a probe; anything else is refused", async () => {
  process.env["STRATA_VM_ACCEL"] = "kvm";
  assert.equal(await probeAccel({ kernel: "/nonexistent" }), "kvm");
  process.env["STRATA_VM_ACCEL"] = "tcg";
  assert.equal(await probeAccel(), "tcg");
  process.env["STRATA_VM_ACCEL"] = "hvf";
  await assert.rejects(probeAccel(), (e: unknown) => e instanceof VmError && e.code === "USAGE");
});

test("the probe is bounded and gives an answer without a working kernel", async () => {
  // A kernel that does not exist: QEMU fails at once, so KVM is not proven.
  const accel = await probeAccel({ kernel: "/nonexistent/vmlinuz", timeoutMs: 3000 });
  assert.equal(accel, "tcg");
});

test("the probe boots the kernel under KVM and knows a kernel that got far", () => {
  const args = probeArgs("/k/vmlinuz");
  assert.deepEqual(args.slice(0, 2), ["-accel", "kvm"]);
  assert.equal(args[args.indexOf("-kernel") + 1], "/k/vmlinuz");
  assert.match(args[args.indexOf("-append") + 1] ?? "", /console=ttyS0 panic=-1/);
  assert.ok(args.includes("-no-reboot"));
  assert.match("[    2.1] Run /init as init process", KERNEL_PROGRESS_RE);
  assert.match("VFS: Cannot open root device", KERNEL_PROGRESS_RE);
  assert.doesNotMatch("[    0.0] Linux version 6.1.0", KERNEL_PROGRESS_RE);
});
