import assert from "node:assert/strict";
import { test } from "node:test";
import { bootTestArgs } from "./boot-test.ts";
import { qemuValue } from "./tools.ts";

const base = {
  accel: "tcg" as const,
  memoryMiB: 1024,
  cpus: 2,
  drive: "/w/overlay.qcow2",
  cdrom: false,
  gateLog: "/w/gates.log",
};

test("a disk boots from its overlay with the console on stdio and the gate port in a file", () => {
  const args = bootTestArgs(base);
  const after = (flag: string) => args.slice(args.indexOf(flag) + 1);
  assert.deepEqual(args.slice(0, 2), ["-accel", "tcg"]);
  assert.ok(!args.includes("-cpu"));
  assert.equal(after("-m")[0], "1024");
  assert.equal(after("-smp")[0], "2");
  assert.equal(after("-nic")[0], "none");
  assert.ok(args.includes("-no-reboot"));
  assert.equal(after("-drive")[0], "file=/w/overlay.qcow2,format=qcow2,if=virtio");
  const serials = args.flatMap((a, i) => (a === "-serial" ? [args[i + 1]] : []));
  assert.deepEqual(serials, ["chardev:console", "file:/w/gates.log"]);
  assert.ok(!args.includes("-bios"));
});

test("KVM uses the host CPU, UEFI the firmware, an iso the CD-ROM, and commas are escaped", () => {
  const args = bootTestArgs({
    ...base,
    accel: "kvm",
    firmware: "/fw/OVMF.fd",
    cdrom: true,
    drive: "/a,b/live.iso",
  });
  assert.deepEqual(args.slice(0, 4), ["-accel", "kvm", "-cpu", "host"]);
  assert.equal(args[args.indexOf("-bios") + 1], "/fw/OVMF.fd");
  assert.equal(args[args.indexOf("-drive") + 1], "file=/a,,b/live.iso,format=raw,media=cdrom,readonly=on");
  assert.equal(args[args.indexOf("-boot") + 1], "d");
  assert.equal(qemuValue("a,b,,c"), "a,,b,,,,c");
});
