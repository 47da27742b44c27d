// makeLiveIso: input refused before anything is written, and — with a real bootable root given
// through STRATA_TEST_VM_ROOT (the tree) and STRATA_TEST_VM_ROOTIMG (its ext4 image) — an ISO
// whose files xorriso lists and, with STRATA_TEST_VM_BOOT=1, that boots in QEMU to a login prompt.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DiskError } from "./errors.ts";
import { LIVE_GRUB_CFG, makeLiveIso, type LiveIsoInput } from "./iso.ts";

const VER = "6.1.0-9-amd64";

async function scratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "strata-iso-test-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A root with what makeLiveIso checks for, minus the parts named. */
async function fakeRoot(dir: string, without: string[] = []): Promise<string> {
  const root = join(dir, "root");
  const files: Record<string, string> = {
    [`boot/vmlinuz-${VER}`]: "kernel",
    [`boot/initrd.img-${VER}`]: "initrd",
    [`usr/lib/modules/${VER}/modules.dep`]: "",
  };
  for (const [path, content] of Object.entries(files)) {
    if (without.includes(path)) continue;
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await writeFile(join(dir, "root.ext4"), "");
  return root;
}

const isDiskError = (code: string, text: string) => (e: unknown) =>
  e instanceof DiskError && e.code === code && e.message.includes(text);

describe("makeLiveIso refuses", () => {
  const cases: {
    name: string;
    without?: string[];
    input?: Partial<LiveIsoInput>;
    code: string;
    text: string;
  }[] = [
    {
      name: "a root without its kernel",
      without: [`boot/vmlinuz-${VER}`],
      code: "NOT_BOOTABLE",
      text: "no kernel",
    },
    {
      name: "a root without its initramfs",
      without: [`boot/initrd.img-${VER}`],
      code: "NOT_BOOTABLE",
      text: "no initramfs",
    },
    { name: "a kernel without the live boot's modules", code: "NOT_BOOTABLE", text: '"cdrom"' },
    {
      name: "a volume ID ISO 9660 does not allow",
      input: { volumeId: "my live" },
      code: "USAGE",
      text: "my live",
    },
    { name: "a volume ID over 32 characters", input: { volumeId: "A".repeat(33) }, code: "USAGE", text: "A" },
    { name: "an epoch that is not a time", input: { epoch: -1 }, code: "USAGE", text: "epoch" },
    {
      name: "a kernel version that is a path",
      input: { kernelVersion: "../x" },
      code: "USAGE",
      text: "../x",
    },
    {
      name: "a missing root image",
      input: { rootImage: "/nonexistent/root.ext4" },
      code: "USAGE",
      text: "image",
    },
  ];
  for (const c of cases) {
    it(`${c.name}, writing nothing`, () =>
      scratch(async (dir) => {
        const root = await fakeRoot(dir, c.without);
        const input: LiveIsoInput = {
          root,
          rootImage: join(dir, "root.ext4"),
          kernelVersion: VER,
          out: join(dir, "out", "live.iso"),
          workDir: join(dir, "work"),
          ...c.input,
        };
        await assert.rejects(makeLiveIso(input), isDiskError(c.code, c.text));
        await assert.rejects(stat(join(dir, "out")));
        const work = await readdir(join(dir, "work")).catch(() => []);
        assert.deepEqual(work, []);
      }));
  }
});

describe("the live GRUB menu", () => {
  it("talks on the serial console and starts its entry with the linux line", () => {
    const lines = LIVE_GRUB_CFG.split("\n");
    assert.equal(lines[0], "serial --unit=0 --speed=115200");
    const entry = lines.findIndex((l) => l.startsWith("menuentry "));
    assert.match(
      lines[entry + 1] ?? "",
      /^\s*linux \/live\/vmlinuz boot=strata-live .*console=ttyS0,115200$/,
    );
    assert.match(lines[entry + 2] ?? "", /^\s*initrd \/live\/initrd.img$/);
  });
});

const ROOT = process.env.STRATA_TEST_VM_ROOT;
const ROOT_IMAGE = process.env.STRATA_TEST_VM_ROOTIMG;
const skip =
  ROOT === undefined || ROOT_IMAGE === undefined
    ? "needs STRATA_TEST_VM_ROOT (a bootable root tree) and STRATA_TEST_VM_ROOTIMG (its ext4 image)"
    : false;

describe("makeLiveIso with a real root", { skip }, () => {
  it("writes an ISO with the kernel, the initrd, the root image and GRUB, which boots to a login prompt", async () => {
    const root = ROOT ?? "";
    const modules = await readdir(join(root, "lib/modules"));
    const kernelVersion = modules.find((v) => /^\d/.test(v));
    assert.ok(kernelVersion !== undefined, "the root has no kernel modules");
    await scratch(async (dir) => {
      const out = join(dir, "live.iso");
      await makeLiveIso({
        root,
        rootImage: ROOT_IMAGE ?? "",
        kernelVersion,
        out,
        epoch: 1700000000,
        workDir: dir,
      });
      const found = spawnSync("xorriso", ["-indev", out, "-find", "/", "-type", "f"], { encoding: "utf8" });
      assert.equal(found.status, 0, found.stderr);
      const files = found.stdout.split("\n").map((l) => l.replace(/^'|'$/g, ""));
      for (const f of ["/live/vmlinuz", "/live/initrd.img", "/live/root.ext4", "/boot/grub/grub.cfg"]) {
        assert.ok(files.includes(f), `${f} in ${found.stdout}`);
      }
      const rootImageSize = (await stat(ROOT_IMAGE ?? "")).size;
      assert.ok((await stat(out)).size > rootImageSize);
      if (process.env.STRATA_TEST_VM_BOOT === "1") {
        const seconds = await bootToLogin(out, join(dir, "serial.log"), 300);
        console.log(`live ISO reached a login prompt in ${seconds.toFixed(1)} s`);
      }
    });
  });
});

/** Boots the ISO from QEMU's CD drive under TCG and waits for "login:" on the serial console. */
async function bootToLogin(iso: string, serial: string, timeoutSeconds: number): Promise<number> {
  const started = Date.now();
  const qemu = spawn(
    "qemu-system-x86_64",
    ["-accel", "tcg", "-m", "1024", "-smp", "2", "-display", "none", "-no-reboot", "-nic", "none"].concat([
      "-serial",
      `file:${serial}`,
      "-cdrom",
      iso,
    ]),
    { stdio: "ignore" },
  );
  let exited = false;
  qemu.on("exit", () => (exited = true));
  try {
    for (;;) {
      const log = await readFile(serial, "utf8").catch(() => "");
      if (log.includes("login:")) return (Date.now() - started) / 1000;
      if (exited || Date.now() - started > timeoutSeconds * 1000) {
        assert.fail(`the live ISO did not reach a login prompt; serial log tail:\n${log.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    qemu.kill();
  }
}
