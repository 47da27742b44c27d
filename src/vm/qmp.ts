// A minimal QMP client: connect to a machine's control socket, leave capabilities negotiation,
// run one command and return its answer. Events QEMU sends meanwhile are skipped.
import { connect } from "node:net";
import { VmError } from "./errors.ts";

export async function qmpCommand(socket: string, command: string, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let buffer = "";
    let step = 0; // 0: greeting, 1: capabilities answered, 2: command answered
    const fail = (error: Error) => {
      clearTimeout(timer);
      conn.destroy();
      reject(
        new VmError("QEMU_FAILED", `QMP "${command}" on "${socket}" failed: ${error.message}`, "", {
          cause: error,
        }),
      );
    };
    const timer = setTimeout(() => fail(new Error("no answer in time")), timeoutMs);
    conn.setEncoding("utf8");
    conn.on("error", fail);
    conn.on("close", () => {
      // QEMU may close the socket as it quits, after or instead of answering `quit`.
      if (step === 1.5 && command === "quit") {
        clearTimeout(timer);
        resolve(undefined);
      } else if (step < 2) fail(new Error("connection closed"));
    });
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line === "") continue;
        let message: { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: string };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return fail(new Error(`not JSON: ${line.slice(0, 100)}`));
        }
        if (message.event !== undefined) continue;
        if (message.error !== undefined) return fail(new Error(message.error.desc ?? "error"));
        if (step === 0 && message.QMP !== undefined) {
          step = 1;
          conn.write(`${JSON.stringify({ execute: "qmp_capabilities" })}\n`);
        } else if (step === 1 && "return" in message) {
          step = 1.5;
          conn.write(`${JSON.stringify({ execute: command })}\n`);
        } else if (step === 1.5 && "return" in message) {
          step = 2;
          clearTimeout(timer);
          conn.end();
          resolve(message.return);
        }
      }
    });
  });
}
