// `vm run` machines from one base: each on its own overlay over the same base file, listed,
// stopped and removed. The base is a boot sector that prints a line, so QEMU starts in a moment.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { listVms, removeVm, runVm, stopVm, VmError, vmLogs } from "../../src/vm/index.ts";
import { HELLO, writeHelloDisk } from "./vm-fixtures.ts";

let dir: string;
let base: string;
let stateDir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-vm-run-"));
  base = join(dir, "base.raw");
  stateDir = join(dir, "vms");
  await writeHelloDisk(base);
});

after(async () => {
  for (const vm of await listVms(stateDir)) await removeVm(stateDir, vm.name, { force: true });
  await rm(dir, { recursive: true, force: true });
});

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

/** The files of an overlay's backing chain, as qemu-img reads them (-U: the machine holds a lock). */
function backingChain(overlay: string): string[] {
  const out = execFileSync("qemu-img", ["info", "-U", "--backing-chain", "--output=json", overlay], {
    encoding: "utf8",
  });
  return (JSON.parse(out) as { filename: string }[]).map((i) => i.filename);
}

async function logsShow(name: string, text: string): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await vmLogs(stateDir, name)).includes(text)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

test("two machines from one base share it; ps, logs, stop and rm", async () => {
  const before = { sha: await sha256(base), size: (await stat(base)).size };
  const common = {
    base: { path: base, format: "raw" as const },
    stateDir,
    detach: true,
    accel: "tcg" as const,
    memoryMiB: 64,
  };
  const a = await runVm({ ...common, name: "a" });
  const b = await runVm(common);
  assert.match(b.name, /^vm-[0-9a-f]{12}$/);
  assert.ok(a.running && b.running);

  for (const vm of [a, b])
    assert.deepEqual(backingChain(join(stateDir, vm.name, "disk.qcow2")), [
      join(stateDir, vm.name, "disk.qcow2"),
      base,
    ]);
  await assert.rejects(
    runVm({ ...common, name: "a" }),
    (e: unknown) => e instanceof VmError && e.code === "USAGE",
  );

  const listed = await listVms(stateDir);
  assert.deepEqual(
    listed.map((v) => [v.name, v.running, v.base.path]),
    [
      ["a", true, base],
      [b.name, true, base],
    ].sort(),
  );
  assert.ok(await logsShow("a", HELLO), "the serial console is logged");

  await assert.rejects(
    removeVm(stateDir, "a"),
    (e: unknown) => e instanceof VmError && e.code === "USAGE" && /is running/.test(e.message),
  );
  // The boot sector has no ACPI: the power button does nothing, so QMP quit ends it.
  assert.equal(await stopVm(stateDir, "a", { timeoutMs: 500 }), "quit");
  assert.equal((await listVms(stateDir)).find((v) => v.name === "a")?.running, false);
  assert.equal(await stopVm(stateDir, "a"), "not-running");
  await removeVm(stateDir, "a");
  await removeVm(stateDir, b.name, { force: true });

  assert.deepEqual(await listVms(stateDir), []);
  assert.deepEqual(await readdir(stateDir), []);
  assert.deepEqual(
    { sha: await sha256(base), size: (await stat(base)).size },
    before,
    "the base is unchanged",
  );
});

test("a machine that cannot start leaves nothing; unknown machines are NOT_FOUND", async () => {
  await assert.rejects(
    runVm({
      base: { path: join(dir, "missing.qcow2"), format: "qcow2" },
      stateDir,
      name: "x",
      detach: true,
      accel: "tcg",
    }),
    (e: unknown) => e instanceof VmError && e.code === "NOT_FOUND",
  );
  await assert.rejects(
    runVm({ base: { path: base, format: "raw" }, stateDir, name: "../escape", detach: true, accel: "tcg" }),
    (e: unknown) => e instanceof VmError && e.code === "USAGE",
  );
  // A base that is not what it claims: qemu-img refuses to make the overlay.
  await assert.rejects(
    runVm({ base: { path: base, format: "qcow2" }, stateDir, name: "bad", detach: true, accel: "tcg" }),
    (e: unknown) => e instanceof VmError && e.code === "QEMU_FAILED",
  );
  assert.deepEqual(await readdir(stateDir).catch(() => []), []);
  for (const call of [
    () => vmLogs(stateDir, "nope"),
    () => stopVm(stateDir, "nope"),
    () => removeVm(stateDir, "nope"),
  ])
    await assert.rejects(call(), (e: unknown) => e instanceof VmError && e.code === "NOT_FOUND");
});
