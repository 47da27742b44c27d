// The template's `disk:` section: defaults, every field in its accepted spellings, and bad input
// refused with an error that names the file and the field's path.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildError } from "./errors.ts";
import { parseTemplate } from "./template.ts";

const parse = (disk: string) => parseTemplate(`steps: ["FROM scratch"]\n${disk}`, "strata.yaml");

describe("template disk section", () => {
  it("is absent unless given", () => {
    assert.equal(parse("").disk, undefined);
  });

  it("takes every default from an empty section", () => {
    const want = { formats: ["qcow2"], boot: "bios", readyTimeout: 120, memory: 1024, tests: [] };
    assert.deepEqual(parse("disk: {}").disk, want);
    assert.deepEqual(parse("disk:").disk, want);
  });

  it("reads every field", () => {
    const t = parse(`
gallery: { image: prod/web, version: 1.2.0 }
disk:
  formats: [qcow2, vhd, vmdk, vdi, raw, iso]
  size: 4GiB
  boot: uefi
  readyTimeout: 1m30s
  memory: 2GiB
  image: prod/web-vm
  tests:
    - { name: nginx answers, command: "curl -sf localhost", stdout: "Welcome" }
    - { name: false is false, command: "false", exitCode: 1 }
    - { name: no test key, path: /etc/ssh/ssh_host_ed25519_key, exists: false }
    - { name: hostname, path: /etc/hostname }
    - { name: ssh runs, service: ssh.service }
`);
    assert.deepEqual(t.disk, {
      formats: ["qcow2", "vhd", "vmdk", "vdi", "raw", "iso"],
      size: 4 * 2 ** 30,
      boot: "uefi",
      readyTimeout: 90,
      memory: 2048,
      image: "prod/web-vm",
      tests: [
        { name: "nginx answers", command: "curl -sf localhost", exitCode: 0, stdout: "Welcome" },
        { name: "false is false", command: "false", exitCode: 1 },
        { name: "no test key", path: "/etc/ssh/ssh_host_ed25519_key", exists: false },
        { name: "hostname", path: "/etc/hostname", exists: true },
        { name: "ssh runs", service: "ssh.service" },
      ],
    });
  });

  const spellings: { yaml: string; field: "size" | "readyTimeout" | "memory"; want: number }[] = [
    { yaml: "size: 2048MiB", field: "size", want: 2 ** 31 },
    { yaml: "size: 1073741824", field: "size", want: 2 ** 30 },
    { yaml: 'size: "512 MiB"', field: "size", want: 2 ** 29 },
    { yaml: "readyTimeout: 45", field: "readyTimeout", want: 45 },
    { yaml: 'readyTimeout: "45"', field: "readyTimeout", want: 45 },
    { yaml: "readyTimeout: 2m", field: "readyTimeout", want: 120 },
    { yaml: "readyTimeout: 1h", field: "readyTimeout", want: 3600 },
    { yaml: "memory: 512", field: "memory", want: 512 },
    { yaml: 'memory: "768"', field: "memory", want: 768 },
    { yaml: "memory: 1GiB", field: "memory", want: 1024 },
    { yaml: "memory: 1.5GiB", field: "memory", want: 1536 },
  ];
  for (const s of spellings)
    it(`reads ${s.yaml}`, () => {
      assert.equal(parse(`disk: { ${s.yaml} }`).disk?.[s.field], s.want);
    });

  const bad: { disk: string; want: string }[] = [
    { disk: "disk: [qcow2]", want: "disk: expected a mapping, got a list" },
    { disk: "disk: { format: [qcow2] }", want: "disk.format: unknown field (expected one of: formats," },
    { disk: "disk: { formats: qcow2 }", want: "disk.formats: expected a list of formats" },
    { disk: "disk: { formats: [] }", want: "disk.formats: must not be empty" },
    {
      disk: "disk: { formats: [qcow2, vhdx] }",
      want: 'disk.formats[1]: expected one of raw, qcow2, vhd, vmdk, vdi, iso, got "vhdx"',
    },
    {
      disk: "disk: { formats: [QCOW2] }",
      want: 'disk.formats[0]: expected one of raw, qcow2, vhd, vmdk, vdi, iso, got "QCOW2"',
    },
    { disk: "disk: { formats: [vhd, raw, vhd] }", want: 'disk.formats[2]: "vhd" is listed twice' },
    {
      disk: "disk: { formats: [{ vhd: fixed }] }",
      want: "disk.formats[0]: expected a string, got a mapping",
    },
    {
      disk: "disk: { size: big }",
      want: 'disk.size: expected a size such as "4GiB" or "2048MiB", got string "big"',
    },
    {
      disk: "disk: { size: 4GB }",
      want: "disk.size: must be a whole number of MiB, got 4000000000 bytes (e.g. 3815MiB)",
    },
    { disk: "disk: { size: 1000 }", want: "disk.size: expected 1MiB to 2TiB" },
    { disk: "disk: { size: 3TiB }", want: "disk.size: expected 1MiB to 2TiB" },
    { disk: "disk: { size: -1 }", want: "disk.size: expected a size" },
    { disk: "disk: { size: [4GiB] }", want: "disk.size: expected a size" },
    { disk: "disk: { boot: efi }", want: 'disk.boot: expected bios or uefi, got "efi"' },
    { disk: "disk: { readyTimeout: soon }", want: "disk.readyTimeout: expected whole seconds or a duration" },
    { disk: "disk: { readyTimeout: 1.5 }", want: "disk.readyTimeout: expected whole seconds or a duration" },
    { disk: "disk: { readyTimeout: 0 }", want: "disk.readyTimeout: expected 1 to 3600 seconds, got 0" },
    { disk: "disk: { readyTimeout: 2h }", want: "disk.readyTimeout: expected 1 to 3600 seconds, got 7200" },
    { disk: "disk: { memory: lots }", want: "disk.memory: expected whole MiB (1024) or a size" },
    { disk: "disk: { memory: 1000.5MiB }", want: "disk.memory: expected whole MiB (1024) or a size" },
    { disk: "disk: { memory: 64 }", want: "disk.memory: expected 128 to 1048576 MiB, got 64" },
    { disk: "disk: { image: web-vm }", want: 'disk.image: expected GALLERY/NAME, got "web-vm"' },
    { disk: "disk: { image: prod/web-vm:1.0.0 }", want: "disk.image: expected GALLERY/NAME" },
    { disk: "disk: { tests: { name: x } }", want: "disk.tests: expected a list of tests, got a mapping" },
    {
      disk: "disk: { tests: [{ command: true }] }",
      want: "disk.tests[0].name: expected a string, got nothing",
    },
    {
      disk: "disk: { tests: [{ name: a }] }",
      want: "disk.tests[0]: a guest test has exactly one of command, path or service (this one has none)",
    },
    {
      disk: "disk: { tests: [{ name: a, command: 'true', service: ssh }] }",
      want: "disk.tests[0]: a guest test has exactly one of command, path or service (this one has command, service)",
    },
    {
      disk: "disk: { tests: [{ name: a, path: /x }, { name: a, path: /y }] }",
      want: 'disk.tests[1].name: another test is named "a"',
    },
    {
      disk: "disk: { tests: [{ name: a, command: [ls, /] }] }",
      want: "disk.tests[0].command: expected a string (run by the guest's shell), got a list",
    },
    { disk: "disk: { tests: [{ name: a, command: '' }] }", want: "disk.tests[0].command: must not be empty" },
    {
      disk: "disk: { tests: [{ name: a, command: 'true', exitCode: 256 }] }",
      want: "disk.tests[0].exitCode: expected a whole number from 0 to 255, got number 256",
    },
    {
      disk: "disk: { tests: [{ name: a, command: 'true', stdout: '(' }] }",
      want: "disk.tests[0].stdout: invalid regular expression",
    },
    {
      disk: "disk: { tests: [{ name: a, command: 'true', exists: true }] }",
      want: "disk.tests[0].exists: unknown field (expected one of: name, command, exitCode, stdout)",
    },
    {
      disk: "disk: { tests: [{ name: a, path: etc/hostname }] }",
      want: 'disk.tests[0].path: must be absolute, got "etc/hostname"',
    },
    {
      disk: "disk: { tests: [{ name: a, path: /x, exists: 'no' }] }",
      want: 'disk.tests[0].exists: expected true or false, got string "no"',
    },
    {
      disk: "disk: { tests: [{ name: a, path: /x, stdout: y }] }",
      want: "disk.tests[0].stdout: unknown field (expected one of: name, path, exists)",
    },
    {
      disk: "disk: { tests: [{ name: a, service: 'ssh; reboot' }] }",
      want: 'disk.tests[0].service: expected a systemd unit name such as "ssh" or "nginx.service", got "ssh; reboot"',
    },
    {
      disk: "disk: { tests: [{ name: a, service: ssh, exitCode: 0 }] }",
      want: "disk.tests[0].exitCode: unknown field (expected one of: name, service)",
    },
  ];
  for (const b of bad)
    it(`refuses ${b.disk}`, () => {
      assert.throws(
        () => parse(b.disk),
        (error: unknown) => error instanceof BuildError && error.message.startsWith(`strata.yaml: ${b.want}`),
      );
    });

  it("keeps the container tests' names apart from the guest tests'", () => {
    const t = parse(`tests: [{ name: a, path: /x }]\ndisk: { tests: [{ name: a, path: /x }] }`);
    assert.equal(t.tests[0]?.name, "a");
    assert.equal(t.disk?.tests[0]?.name, "a");
  });
});
