import assert from "node:assert/strict";
import { test } from "node:test";
import { VmError } from "./errors.ts";
import {
  assertGatesPassed,
  evaluateGate,
  evaluateGates,
  gateCommand,
  type GuestGate,
  parseGateLog,
  shellQuote,
  validateGates,
} from "./gates.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const report = (index: number, exitCode: number, output = "", stderr = "") => ({
  index,
  exitCode,
  output,
  stderr,
});

test("malformed gates are refused before any guest starts", () => {
  const bad: [GuestGate[], RegExp][] = [
    [[{ name: "a" }], /exactly one of command, path or service/],
    [[{ name: "a", command: "true", path: "/x" }], /exactly one/],
    [
      [
        { name: "a", command: "true" },
        { name: "a", path: "/x" },
      ],
      /Duplicate gate "a"/,
    ],
    [[{ name: " ", command: "true" }], /without a name/],
    [[{ name: "a", command: "true", stdout: "(" }], /not a regular expression/],
    [[{ name: "a", path: "/x", stdout: "y" }], /stdout goes with a command/],
    [[{ name: "a", path: "/x", exitCode: 1 }], /exitCode/],
    [[{ name: "a", command: "x", exitCode: 1.5 }], /exitCode/],
    [[{ name: "a", command: "x", exists: false }], /exists goes with a path/],
    [[{ name: "a", service: "ssh; reboot" }], /not a unit name/],
  ];
  for (const [gates, message] of bad) {
    assert.throws(
      () => validateGates(gates),
      (e: unknown) => e instanceof VmError && e.code === "USAGE" && message.test(e.message),
    );
  }
  validateGates([
    { name: "a", command: "true", stdout: "^ok$", exitCode: 0 },
    { name: "b", path: "/etc/x", exists: false },
    { name: "c", service: "serial-getty@ttyS0.service" },
  ]);
});

test("each gate becomes one shell command, paths quoted", () => {
  assert.equal(gateCommand({ name: "a", command: "echo hi | wc -c" }), "echo hi | wc -c");
  assert.equal(gateCommand({ name: "b", path: "/it's" }), `test -e '/it'\\''s' || test -L '/it'\\''s'`);
  assert.equal(gateCommand({ name: "c", service: "ssh" }), "systemctl is-active 'ssh'");
  assert.equal(shellQuote("a b"), "'a b'");
});

test("the gate port's lines are parsed; partial and foreign lines are ignored", () => {
  const log = [
    "STRATA-READY\r",
    `STRATA-GATE 1 0 ${b64("hello\n")} ${b64("")} END\r`,
    "random noise",
    `STRATA-GATE 2 3 ${b64("out")} ${b64("err")} END`,
    `STRATA-GATE 3 0 ${b64("cut short")}`,
  ].join("\n");
  const parsed = parseGateLog(log);
  assert.equal(parsed.ready, true);
  assert.equal(parsed.done, false);
  assert.deepEqual(parsed.reports, [report(1, 0, "hello\n"), report(2, 3, "out", "err")]);
  assert.equal(parseGateLog(`${log}\nSTRATA-DONE\r\n`).done, true);
  assert.deepEqual(parseGateLog(""), { ready: false, done: false, reports: [] });
});

test("verdicts: exit status, output pattern, path presence, service state, no report", () => {
  const cmd: GuestGate = { name: "os", command: "cat /etc/os-release", stdout: "bookworm" };
  assert.equal(evaluateGate(cmd, report(1, 0, "VERSION_CODENAME=bookworm")).ok, true);
  assert.match(evaluateGate(cmd, report(1, 0, "trixie")).detail, /does not match \/bookworm\//);
  assert.match(
    evaluateGate(cmd, report(1, 1, "", "No such file")).detail,
    /exit status 1, expected 0: .*No such file/s,
  );
  assert.equal(evaluateGate({ name: "x", command: "exit 3", exitCode: 3 }, report(1, 3)).ok, true);
  assert.equal(evaluateGate({ name: "p", path: "/etc/fstab" }, report(1, 0)).ok, true);
  assert.equal(evaluateGate({ name: "p", path: "/etc/fstab" }, report(1, 1)).ok, false);
  assert.equal(evaluateGate({ name: "p", path: "/var/cache/x", exists: false }, report(1, 1)).ok, true);
  assert.equal(
    evaluateGate({ name: "s", service: "ssh" }, report(1, 3, "inactive\n")).detail,
    `"ssh" is inactive`,
  );
  assert.deepEqual(evaluateGates([cmd, { name: "b", path: "/" }], [report(2, 0)])[0], {
    name: "os",
    ok: false,
    detail: "no result from the guest",
  });
});

test("assertGatesPassed lists every failure with the serial tail", () => {
  const gates = [
    { name: "a", ok: true, detail: "" },
    { name: "b", ok: false, detail: "exit status 1, expected 0" },
    { name: "c", ok: false, detail: `"ssh" is inactive` },
  ];
  assertGatesPassed({ gates: gates.slice(0, 1), serialTail: "" });
  assert.throws(
    () => assertGatesPassed({ gates, serialTail: "login:" }),
    (e: unknown) =>
      e instanceof VmError &&
      e.code === "GATE_FAILED" &&
      e.serialTail === "login:" &&
      e.message === `2 of 3 boot-test gates failed: "b" (exit status 1, expected 0); "c" ("ssh" is inactive)`,
  );
});
