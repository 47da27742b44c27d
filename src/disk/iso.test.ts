// makeLiveIso: input refused before anything is written. An iso of a real bootable root, booted
// in QEMU with gates inside the guest, is in test/e2e/vm-release.test.ts.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
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
