import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { VmError } from "./errors.ts";
import { qmpCommand } from "./qmp.ts";

/** A QMP server that greets, answers capabilities, then answers with `reply` (lines). */
async function withServer(reply: (command: string) => string[], run: (socket: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), "strata-qmp-"));
  const path = join(dir, "qmp.sock");
  const seen: string[] = [];
  const server = createServer((conn: Socket) => {
    conn.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`);
    let buffer = "";
    conn.on("data", (d: Buffer) => {
      buffer += d.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const { execute } = JSON.parse(buffer.slice(0, nl)) as { execute: string };
        buffer = buffer.slice(nl + 1);
        seen.push(execute);
        if (execute === "qmp_capabilities") conn.write(`${JSON.stringify({ return: {} })}\n`);
        else
          for (const line of reply(execute)) {
            if (line === "CLOSE") conn.destroy();
            else
              conn.write(`${line}
`);
          }
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    await run(path);
    return seen;
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test("QMP: capabilities first, events skipped, the command's answer returned", async () => {
  const seen = await withServer(
    () => [JSON.stringify({ event: "POWERDOWN", timestamp: {} }), JSON.stringify({ return: { ok: 1 } })],
    async (socket) => assert.deepEqual(await qmpCommand(socket, "system_powerdown"), { ok: 1 }),
  );
  assert.deepEqual(seen, ["qmp_capabilities", "system_powerdown"]);
});

test("QMP: an error answer, garbage and a missing socket are QEMU_FAILED; quit may just close", async () => {
  const failed = (pattern: RegExp) => (e: unknown) =>
    e instanceof VmError && e.code === "QEMU_FAILED" && pattern.test(e.message);
  await withServer(
    (c) =>
      c === "quit"
        ? ["CLOSE"]
        : c === "bad"
          ? [JSON.stringify({ error: { desc: "no such command" } })]
          : ["{oops"],
    async (socket) => {
      await assert.rejects(qmpCommand(socket, "bad"), failed(/no such command/));
      await assert.rejects(qmpCommand(socket, "garbage"), failed(/not JSON/));
      assert.equal(await qmpCommand(socket, "quit"), undefined);
    },
  );
  await assert.rejects(qmpCommand("/nonexistent/qmp.sock", "quit"), failed(/ENOENT/));
});
