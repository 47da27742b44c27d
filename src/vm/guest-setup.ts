// What the harness types at the initramfs shell (`break=bottom`, before switch_root) so the
// booted system runs the gates: a transient systemd unit in /run/systemd/system, wanted by and
// ordered after multi-user.target, and the script it runs, all under the guest's /run (a tmpfs
// that initramfs-tools moves into the real root). Nothing is written to the disk.
//
// Only printable ASCII is typed: each gate's command goes as base64 lines, decoded in the
// booted system (coreutils' base64), so quotes, tabs or control characters in a command cannot
// upset the console's line discipline or the initramfs shell.
import { gateCommand, type GuestGate, MARK, MAX_GATE_OUTPUT } from "./gates.ts";

export const GATES_DIR = "/run/strata-gates";
export const UNIT_DIR = "/run/systemd/system";
export const UNIT_NAME = "strata-gates.service";
/** Heredoc delimiter, quoted where used so nothing in the body is expanded. */
const EOF_MARK = "STRATA_EOF";
/** Printed by the setup's last line; the echo of the typed line reads `STRATA""-TYPED`. */
export const TYPED_MARK = "STRATA-TYPED";
/** Seconds one gate may run before `timeout` ends it (exit status 124). */
export const GATE_TIMEOUT_SECONDS = 120;

export const unitFile = () =>
  [
    "[Unit]",
    "Description=Strata boot-test gates",
    "After=multi-user.target",
    "[Service]",
    "Type=oneshot",
    `ExecStart=/bin/sh ${GATES_DIR}/gates.sh`,
    "StandardInput=null",
    "StandardOutput=null",
    "StandardError=null",
  ].join("\n");

/** The script the unit runs: READY, one report line per gate, DONE (on ttyS1), power off. */
export const gatesScript = () =>
  [
    "#!/bin/sh",
    `d=${GATES_DIR}`,
    "exec >/dev/ttyS1 2>&1 </dev/null",
    `echo ${MARK.ready}`,
    "i=1",
    'while [ -f "$d/$i.b64" ]; do',
    '  base64 -d "$d/$i.b64" >"$d/$i.sh"',
    `  timeout ${GATE_TIMEOUT_SECONDS} /bin/sh "$d/$i.sh" >"$d/$i.out" 2>"$d/$i.err" </dev/null`,
    "  code=$?",
    `  out=$(head -c ${MAX_GATE_OUTPUT} "$d/$i.out" | base64 -w0)`,
    `  err=$(head -c ${MAX_GATE_OUTPUT} "$d/$i.err" | base64 -w0)`,
    `  echo "${MARK.gate} $i $code $out $err END"`,
    "  i=$((i+1))",
    "done",
    `echo ${MARK.done}`,
    "systemctl poweroff --no-block",
  ].join("\n");

const heredoc = (path: string, body: string) => [
  `cat >${path} <<'${EOF_MARK}'`,
  ...body.split("\n"),
  EOF_MARK,
];

/** Base64 of `text` in lines of 76 characters. */
export function base64Lines(text: string): string {
  const b64 = Buffer.from(text, "utf8").toString("base64");
  return (b64.match(/.{1,76}/g) ?? [""]).join("\n");
}

/** The shell lines typed at the `(initramfs)` prompt, in order; `exit` is typed separately. */
export function setupLines(gates: readonly GuestGate[]): string[] {
  const lines = [
    `mkdir -p ${GATES_DIR} ${UNIT_DIR}/multi-user.target.wants`,
    ...heredoc(`${UNIT_DIR}/${UNIT_NAME}`, unitFile()),
    `ln -sf ../${UNIT_NAME} ${UNIT_DIR}/multi-user.target.wants/${UNIT_NAME}`,
    ...heredoc(`${GATES_DIR}/gates.sh`, gatesScript()),
    ...gates.flatMap((gate, i) => heredoc(`${GATES_DIR}/${i + 1}.b64`, base64Lines(gateCommand(gate)))),
    `echo ${TYPED_MARK.replace("-", '""-')}`,
  ];
  for (const line of lines)
    if (!/^[\x20-\x7e]*$/.test(line)) throw new Error(`Not printable ASCII: ${JSON.stringify(line)}`);
  return lines;
}
