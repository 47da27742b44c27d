import assert from "node:assert/strict";
import { test } from "node:test";
import { machineArgs, type VmRecord } from "./machines.ts";

const record: VmRecord = {
  name: "web-1",
  id: "0123456789ab",
  base: { path: "/cache/base.qcow2", format: "qcow2" },
  memoryMiB: 512,
  cpus: 2,
  accel: "tcg",
  boot: "bios",
  created: "2026-01-01T00:00:00.000Z",
  detached: true,
};

test("a detached machine: overlay, QMP socket, console socket logged to a file, daemonized", () => {
  const args = machineArgs("/s/web-1", record);
  const after = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(after("-drive"), "file=/s/web-1/disk.qcow2,format=qcow2,if=virtio");
  assert.equal(after("-qmp"), "unix:/s/web-1/qmp.sock,server=on,wait=off");
  assert.equal(
    after("-chardev"),
    "socket,id=console,path=/s/web-1/console.sock,server=on,wait=off,logfile=/s/web-1/serial.log,logappend=on",
  );
  assert.equal(after("-serial"), "chardev:console");
  assert.equal(after("-pidfile"), "/s/web-1/qemu.pid");
  assert.ok(args.includes("-daemonize"));
  assert.ok(!args.includes("/cache/base.qcow2"), "the base is only the overlay's backing file");
});

test("a foreground machine has its console on stdio, still logged; UEFI adds the firmware", () => {
  const args = machineArgs("/s/web-1", { ...record, detached: false, accel: "kvm" }, "/fw/OVMF.fd");
  assert.equal(
    args[args.indexOf("-chardev") + 1],
    "stdio,id=console,signal=on,logfile=/s/web-1/serial.log,logappend=on",
  );
  assert.ok(!args.includes("-daemonize"));
  assert.equal(args[args.indexOf("-bios") + 1], "/fw/OVMF.fd");
  assert.equal(args[args.indexOf("-cpu") + 1], "host");
});
