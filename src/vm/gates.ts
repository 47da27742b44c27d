// Test gates run inside the guest: what a gate asks, the shell command that answers it, the
// lines the guest reports on its second serial port, and the verdicts. The guest only runs
// commands and reports exit status and output; every verdict is reached here, on the host.
import { VmError } from "./errors.ts";

/**
 * One check inside the booted guest — the template's `disk.tests` entries (builder/), checked
 * here: exactly one of `command` (run with /bin/sh; passes on `exitCode`, default 0, and a
 * `stdout` match), `path` (exists, or with `exists: false` does not) or `service`
 * (`systemctl is-active` says active).
 */
export type { GuestGate } from "../builder/index.ts";
import type { GuestGate } from "../builder/index.ts";

export interface GateResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** What the guest reported for one gate. */
export interface GateReport {
  readonly index: number;
  readonly exitCode: number;
  /** Standard output (what `stdout` is matched against). */
  readonly output: string;
  readonly stderr: string;
}

/** Markers the guest writes on its gate port (ttyS1). */
export const MARK = { ready: "STRATA-READY", gate: "STRATA-GATE", done: "STRATA-DONE" } as const;

/** A gate's output kept for its verdict and detail. */
export const MAX_GATE_OUTPUT = 64 * 1024;

/** Single-quoted for /bin/sh. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Checks gates before any guest starts: a malformed gate is a USAGE error. */
export function validateGates(gates: readonly GuestGate[]): void {
  const names = new Set<string>();
  for (const gate of gates) {
    const kinds = [gate.command, gate.path, gate.service].filter((k) => k !== undefined).length;
    const label = `gate "${gate.name}"`;
    if (gate.name.trim() === "") throw new VmError("USAGE", "Gate without a name");
    if (names.has(gate.name)) throw new VmError("USAGE", `Duplicate ${label}`);
    names.add(gate.name);
    if (kinds !== 1)
      throw new VmError("USAGE", `Invalid ${label}: it needs exactly one of command, path or service`);
    if (gate.stdout !== undefined) {
      if (gate.command === undefined)
        throw new VmError("USAGE", `Invalid ${label}: stdout goes with a command`);
      try {
        new RegExp(gate.stdout);
      } catch (error) {
        throw new VmError("USAGE", `Invalid ${label}: stdout is not a regular expression: ${String(error)}`);
      }
    }
    if (gate.exitCode !== undefined && (gate.command === undefined || !Number.isInteger(gate.exitCode)))
      throw new VmError("USAGE", `Invalid ${label}: exitCode is a whole number and goes with a command`);
    if (gate.exists !== undefined && gate.path === undefined)
      throw new VmError("USAGE", `Invalid ${label}: exists goes with a path`);
    if (gate.service !== undefined && !/^[\w@.:-]+$/.test(gate.service))
      throw new VmError("USAGE", `Invalid ${label}: service "${gate.service}" is not a unit name`);
  }
}

/** The shell command the guest runs for a gate. */
export function gateCommand(gate: GuestGate): string {
  if (gate.command !== undefined) return gate.command;
  if (gate.path !== undefined) return `test -e ${shellQuote(gate.path)} || test -L ${shellQuote(gate.path)}`;
  return `systemctl is-active ${shellQuote(gate.service ?? "")}`;
}

/**
 * Parses the gate port's text: whether READY and DONE were seen and each gate's report. Lines
 * are `STRATA-GATE <index> <exit code> <base64 stdout> <base64 stderr> END`; anything else (a
 * carriage return, a stray line) is ignored, and a line cut short is not a report.
 */
export function parseGateLog(text: string): { ready: boolean; done: boolean; reports: GateReport[] } {
  const reports: GateReport[] = [];
  let ready = false;
  let done = false;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r/g, "").trim();
    if (line === MARK.ready) ready = true;
    else if (line === MARK.done) done = true;
    else {
      const m = /^STRATA-GATE (\d+) (\d+) ([A-Za-z0-9+/=]*) ([A-Za-z0-9+/=]*) END$/.exec(line);
      if (m === null) continue;
      reports.push({
        index: Number(m[1]),
        exitCode: Number(m[2]),
        output: Buffer.from(m[3] ?? "", "base64").toString("utf8"),
        stderr: Buffer.from(m[4] ?? "", "base64").toString("utf8"),
      });
    }
  }
  return { ready, done, reports };
}

const brief = (output: string) => {
  const text = output.trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

/** A gate's verdict from its report (none: it never ran, e.g. the guest stopped mid-way). */
export function evaluateGate(gate: GuestGate, report: GateReport | undefined): GateResult {
  if (report === undefined) return { name: gate.name, ok: false, detail: "no result from the guest" };
  const { exitCode, output, stderr } = report;
  const said = [output, stderr].some((o) => o.trim() !== "") ? `: ${brief(`${output}\n${stderr}`)}` : "";
  if (gate.path !== undefined) {
    const want = gate.exists ?? true;
    const found = exitCode === 0;
    return {
      name: gate.name,
      ok: found === want,
      detail: `"${gate.path}" ${found ? "exists" : "does not exist"}`,
    };
  }
  if (gate.service !== undefined) {
    const state = output.trim() || `exit status ${exitCode}`;
    return { name: gate.name, ok: exitCode === 0, detail: `"${gate.service}" is ${state}` };
  }
  const wantCode = gate.exitCode ?? 0;
  if (exitCode !== wantCode)
    return { name: gate.name, ok: false, detail: `exit status ${exitCode}, expected ${wantCode}${said}` };
  if (gate.stdout !== undefined && !new RegExp(gate.stdout).test(output))
    return { name: gate.name, ok: false, detail: `output does not match /${gate.stdout}/${said}` };
  return { name: gate.name, ok: true, detail: `exit status ${exitCode}${said}` };
}

export function evaluateGates(gates: readonly GuestGate[], reports: readonly GateReport[]): GateResult[] {
  const byIndex = new Map(reports.map((r) => [r.index, r]));
  return gates.map((gate, i) => evaluateGate(gate, byIndex.get(i + 1)));
}

/** Throws GATE_FAILED naming every failed gate, with the serial tail; returns when all passed. */
export function assertGatesPassed(result: {
  readonly gates: readonly GateResult[];
  readonly serialTail: string;
}): void {
  const failed = result.gates.filter((g) => !g.ok);
  if (failed.length === 0) return;
  const list = failed.map((g) => `"${g.name}" (${g.detail})`).join("; ");
  throw new VmError(
    "GATE_FAILED",
    `${failed.length} of ${result.gates.length} boot-test gates failed: ${list}`,
    result.serialTail,
  );
}
