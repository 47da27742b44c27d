// VM images end to end, on a real bootable Debian image (mmdebstrap with the kernel, systemd
// and udev from Debian's archive, made into an image by the builder): a disk in every format,
// reproducible in a second folder; boot tests in QEMU (TCG) of qcow2, vhd, the live iso and a
// UEFI disk with gates inside the guest; a template released as image + disk through
// `strata build --publish`; two `vm run`s sharing one cached base; a disk made by qemu-img
// imported and pulled as vhd; revocation of the image cascading to the disk, and `vm run`
// refused with the gallery's reason.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase, buildDebianBase } from "../../scripts/base-images.ts";
import { assertGatesPassed, bootTest, VmError, type GuestGate } from "../../src/vm/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { runOk } from "../helpers/exec.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

let work: string;
let server: RunningStrata;
let base: string;
let env: Record<string, string>;

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

async function strata(args: readonly string[]) {
  const result = await runStrata(args, env);
  assert.equal(result.code, 0, `strata ${args.join(" ")}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed CLI answers, checked field by field
const strataJson = async (args: readonly string[]): Promise<any> =>
  JSON.parse(await strata([...args, "--json"]));

async function qemuInfo(
  path: string,
  format: string,
): Promise<{
  format: string;
  "virtual-size": number;
  "format-specific"?: { data?: { "create-type"?: string } };
}> {
  return JSON.parse((await runOk("qemu-img", ["info", "--output=json", "-f", format, path])).stdout);
}

const GATES: GuestGate[] = [
  { name: "debian", command: "cat /etc/os-release", stdout: "ID=debian" },
  { name: "root by uuid", command: "findmnt -n -o SOURCE /", stdout: "^/dev/" },
  { name: "fstab", path: "/etc/fstab" },
  { name: "no test unit on the disk", path: "/etc/systemd/system/strata-gates.service", exists: false },
  { name: "journald", service: "systemd-journald" },
  { name: "its own machine-id", command: "test -s /etc/machine-id" },
];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-vm-release-"));
  base = join(work, "layout");
  await buildDebianBase(base, "debian-vm", { bootable: true });
  await buildBusyboxBase(base, "busybox");
  server = await startStrata();
  env = {
    STRATA_SERVER: server.url,
    STRATA_DATA_DIR: join(work, "data"),
    STRATA_CONFIG_DIR: join(work, "config"),
    HOME: work,
  };
});
after(async () => {
  await runStrata(["vm", "rm", "-f", "one", "two"], env).catch(() => undefined);
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("VM disks from a bootable Debian image", { timeout: 30 * 60_000 }, () => {
  let raw = "";
  let disks: Record<string, string> = {};

  it("builds raw, qcow2, vhd, vmdk, vdi and a live iso; qemu-img reads each; the raw digest repeats in a second folder", async () => {
    const out1 = join(work, "out1");
    const built = await strataJson([
      "disk",
      "build",
      `oci-layout:${base}:debian-vm`,
      "--format",
      "raw,qcow2,vhd,vmdk,vdi,iso",
      "-o",
      out1,
    ]);
    disks = Object.fromEntries(
      (built.files as { format: string; path: string }[]).map((f) => [f.format, f.path]),
    );
    assert.deepEqual(Object.keys(disks).sort(), ["iso", "qcow2", "raw", "vdi", "vhd", "vmdk"]);
    raw = disks.raw ?? "";
    assert.equal(await sha256(raw), built.rawDigest);
    const size: number = built.virtualSize;
    assert.equal(size % 2 ** 20, 0, "a whole number of MiB, as Azure wants");
    for (const [format, qemu] of [
      ["raw", "raw"],
      ["qcow2", "qcow2"],
      ["vhd", "vpc"],
      ["vmdk", "vmdk"],
      ["vdi", "vdi"],
    ] as const) {
      const info = await qemuInfo(disks[format] ?? "", qemu);
      assert.equal(info.format, qemu);
      assert.equal(info["virtual-size"], size, `${format} virtual size`);
    }
    assert.equal(
      (await qemuInfo(disks.vmdk ?? "", "vmdk"))["format-specific"]?.data?.["create-type"],
      "streamOptimized",
    );
    await runOk("qemu-img", ["check", "-f", "qcow2", disks.qcow2 ?? ""]);
    const listed = (await runOk("xorriso", ["-indev", disks.iso ?? "", "-find", "/live"])).stdout;
    for (const f of ["vmlinuz", "initrd.img", "root.ext4"]) assert.match(listed, new RegExp(`/live/${f}`));
    // The same image and options in another folder: the same raw bytes.
    const again = await strataJson([
      "disk",
      "build",
      `oci-layout:${base}:debian-vm`,
      "--format",
      "raw",
      "-o",
      join(work, "out2"),
    ]);
    assert.equal(again.rawDigest, built.rawDigest);
  });

  it("refuses an image without a kernel, saying what a bootable image needs, and writes nothing", async () => {
    const out = join(work, "nokernel");
    const result = await runStrata(["disk", "build", `oci-layout:${base}:busybox`, "-o", out], env);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no kernel: a bootable image needs a Linux kernel/);
    assert.deepEqual(await readdir(out).catch(() => []), []);
  });

  it("boots the qcow2 on an overlay with gates inside the guest; a failing gate fails; the disk is unchanged", async () => {
    const path = disks.qcow2 ?? "";
    const before = await sha256(path);
    const result = await bootTest(
      { path, format: "qcow2" },
      {
        boot: "bios",
        readyTimeout: 240,
        gates: [...GATES, { name: "meant to fail", command: "test -e /nonexistent" }],
      },
    );
    assert.deepEqual(
      result.gates.map((g) => [g.name, g.ok]),
      [...GATES.map((g) => [g.name, true]), ["meant to fail", false]],
    );
    assert.throws(
      () => assertGatesPassed(result),
      (e: unknown) => e instanceof VmError && e.code === "GATE_FAILED",
    );
    assert.equal(await sha256(path), before, "the tested disk's bytes are unchanged");
  });

  it("boots the vhd and the live iso", async () => {
    const vhd = await bootTest(
      { path: disks.vhd ?? "", format: "vhd" },
      { boot: "bios", readyTimeout: 240, gates: GATES },
    );
    assertGatesPassed(vhd);
    const iso = await bootTest(
      { path: disks.iso ?? "", format: "iso" },
      {
        boot: "bios",
        readyTimeout: 300,
        gates: [
          { name: "debian", command: "cat /etc/os-release", stdout: "ID=debian" },
          { name: "live root", command: "findmnt -n -o FSTYPE /", stdout: "overlay" },
        ],
      },
    );
    assertGatesPassed(iso);
  });

  it("boots a UEFI disk", async () => {
    const out = join(work, "uefi");
    const built = await strataJson([
      "disk",
      "build",
      `oci-layout:${base}:debian-vm`,
      "--boot",
      "uefi",
      "-o",
      out,
    ]);
    const qcow2 =
      (built.files as { format: string; path: string }[]).find((f) => f.format === "qcow2")?.path ?? "";
    const result = await bootTest(
      { path: qcow2, format: "qcow2" },
      {
        boot: "uefi",
        readyTimeout: 300,
        gates: [...GATES, { name: "esp", command: "findmnt -n -o FSTYPE /boot/efi", stdout: "vfat" }],
      },
    );
    assertGatesPassed(result);
  });

  it("releases a template's image and its boot-tested disk together; two vm runs share one base", async () => {
    await strata(["gallery", "create", "prod"]);
    await strata(["image", "define", "prod/web", "--kind", "container"]);
    await strata(["image", "define", "prod/web-vm", "--kind", "vm", "--boot-mode", "bios"]);
    const app = join(work, "app");
    await mkdir(app);
    await writeFile(join(app, "app.conf"), "greeting = hello from the web release\n");
    await writeFile(
      join(app, "Containerfile"),
      `FROM oci-layout:${base}:debian-vm\nCOPY app.conf /etc/app.conf\n`,
    );
    await writeFile(
      join(app, "strata.yaml"),
      [
        "containerfile: Containerfile",
        "gallery: { image: prod/web, version: 1.0.0 }",
        "disk:",
        "  image: prod/web-vm",
        "  formats: [qcow2]",
        "  tests:",
        "    - { name: app config, command: cat /etc/app.conf, stdout: hello from the web release }",
        "    - { name: journald, service: systemd-journald }",
        "",
      ].join("\n"),
    );
    // A failing guest gate stops the release: neither the image nor the disk is published.
    const failing = join(app, "failing.yaml");
    await writeFile(
      failing,
      [
        "containerfile: Containerfile",
        "gallery: { image: prod/web, version: 0.1.0 }",
        "disk:",
        "  image: prod/web-vm",
        "  tests:",
        "    - { name: needs a missing file, path: /etc/not-there }",
        "",
      ].join("\n"),
    );
    const stopped = await runStrata(["build", "-f", failing, "--publish"], env);
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /1 of 1 guest tests failed \(needs a missing file\): nothing was published/);
    assert.match(stopped.stderr, /serial console/);
    for (const name of ["prod/web", "prod/web-vm"]) {
      const shown = await runStrata(["version", "show", name, "0.1.0"], env);
      assert.notEqual(shown.code, 0, `${name}@0.1.0 was not published`);
    }
    const released = await strataJson(["build", "-f", join(app, "strata.yaml"), "--publish"]);
    assert.equal(released.disk.test.gates.length, 2);
    assert.equal(released.disk.published.digest.startsWith("sha256:"), true);
    const version = await strataJson(["version", "show", "prod/web-vm", "1.0.0"]);
    assert.equal(version.baseDigest, released.digest, "the disk version's base is the image");

    await strata(["vm", "run", "prod/web-vm:1.0.0", "-d", "--name", "one", "--memory", "512", "--cpus", "1"]);
    await strata(["vm", "run", "prod/web-vm:1.0.0", "-d", "--name", "two", "--memory", "512", "--cpus", "1"]);
    const ps = await strataJson(["vm", "ps"]);
    assert.deepEqual(ps.map((m: { name: string }) => m.name).sort(), ["one", "two"]);
    const cache = join(work, "data", "vm-disks");
    const cached = await readdir(cache);
    assert.equal(cached.length, 1, "one cached base for both machines");
    for (const name of ["one", "two"]) {
      const chain = JSON.parse(
        (
          await runOk("qemu-img", [
            "info",
            "--output=json",
            "--backing-chain",
            "-U",
            join(work, "data", "vms", name, "disk.qcow2"),
          ])
        ).stdout,
      ) as { filename: string }[];
      assert.equal(chain[1]?.filename, join(cache, cached[0] ?? ""));
    }
    await strata(["vm", "stop", "-t", "5", "one", "two"]);
    await strata(["vm", "rm", "one", "two"]);
    assert.deepEqual(await strataJson(["vm", "ps", "--all"]), []);
    assert.ok((await stat(join(cache, cached[0] ?? ""))).size > 0, "the cached base stays");

    // Revoking the image revokes the disk made from it; vm run is then refused with the reason.
    await strata([
      "version",
      "revoke",
      "prod/web",
      "1.0.0",
      "--reason",
      "CVE-2026-0001 in the web app",
      "--cascade",
    ]);
    const refused = await runStrata(["vm", "run", "prod/web-vm:1.0.0", "-d", "--name", "three"], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /CVE-2026-0001/);
  });

  it("imports a disk made by qemu-img (format read from the header) and pulls it as a fixed vhd", async () => {
    const made = join(work, "captured.img"); // a vmdk, named as if raw
    await runOk("qemu-img", ["convert", "-f", "raw", "-O", "vmdk", raw, made]);
    const imported = await strataJson(["disk", "import", made, "--publish", "prod/web-vm@0.9.0"]);
    assert.equal(imported.format, "vmdk");
    const out = join(work, "pulled.vhd");
    await strata(["disk", "pull", "prod/web-vm:0.9.0", "--format", "vhd", "-o", out]);
    const info = await qemuInfo(out, "vpc");
    assert.equal(info["virtual-size"], (await stat(raw)).size);
    // A hostile disk is refused before anything is stored.
    const hostile = join(work, "hostile.qcow2");
    await runOk("qemu-img", ["create", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw", hostile]);
    const refused = await runStrata(["disk", "import", hostile, "--publish", "prod/web-vm@0.9.1"], env);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /\/etc\/shadow/);
    const shown = await runStrata(["version", "show", "prod/web-vm", "0.9.1"], env);
    assert.notEqual(shown.code, 0, "nothing was published");
  });
});
