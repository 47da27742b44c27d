import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gatesScript, setupLines, unitFile } from "./guest-setup.ts";

const gates = [
  { name: "quotes", command: `printf '%s\\n' "it's $HOME"\tand a tab` },
  { name: "long", command: `echo ${"x".repeat(500)}` },
  { name: "path", path: "/etc/fstab" },
];

test("the typed lines are printable ASCII with no line longer than a console line needs", () => {
  const lines = setupLines(gates);
  for (const line of lines) assert.match(line, /^[\x20-\x7e]*$/);
  assert.ok(Math.max(...lines.map((l) => l.length)) <= 120);
  assert.equal(lines.at(-1), 'echo STRATA""-TYPED');
});

test("run by a shell, the typed lines write the unit, its wants link, the script and each command", async () => {
  const root = await mkdtemp(join(tmpdir(), "strata-guest-setup-"));
  try {
    // The same lines with /run moved under a temporary folder, run by the host's sh.
    const moved = (text: string) => text.replaceAll("/run/", `${root}/run/`);
    const script = moved(setupLines(gates).join("\n"));
    const out = execFileSync("sh", ["-s"], { input: script, encoding: "utf8" });
    assert.equal(out, "STRATA-TYPED\n");
    const unit = join(root, "run/systemd/system/strata-gates.service");
    assert.equal(await readFile(unit, "utf8"), `${moved(unitFile())}\n`);
    assert.match(unitFile(), /^After=multi-user\.target$/m);
    assert.match(unitFile(), /^Type=oneshot$/m);
    assert.equal(
      await readlink(join(root, "run/systemd/system/multi-user.target.wants/strata-gates.service")),
      "../strata-gates.service",
    );
    assert.equal(
      await readFile(join(root, "run/strata-gates/gates.sh"), "utf8"),
      `${moved(gatesScript())}\n`,
    );
    const decoded = (i: number) =>
      execFileSync("base64", ["-d", join(root, `run/strata-gates/${i}.b64`)], { encoding: "utf8" });
    assert.equal(decoded(1), gates[0]?.command);
    assert.equal(decoded(2), gates[1]?.command);
    assert.equal(decoded(3), "test -e '/etc/fstab' || test -L '/etc/fstab'");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("the gate script reports on ttyS1 between READY and DONE, then powers off", () => {
  const script = gatesScript();
  assert.match(script, /exec >\/dev\/ttyS1/);
  const order = ["STRATA-READY", "STRATA-GATE", "STRATA-DONE", "systemctl poweroff"].map((m) =>
    script.indexOf(m),
  );
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
  );
  assert.ok(order.every((i) => i > 0));
});
