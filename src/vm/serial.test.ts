import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { SerialConsole, serialTail, stripAnsi } from "./serial.ts";

test("stripAnsi removes colours, cursor moves, modes and carriage returns", () => {
  const raw =
    "\x1b[0;32m  OK  \x1b[0m] Reached target\r\n\x1b[?25l\x1b[5;3Hsetparams\x1b]0;title\x07\x1b(B end";
  assert.equal(stripAnsi(raw), "  OK  ] Reached target\nsetparams end");
});

test("serialTail keeps the last non-blank lines and splits GRUB's cursor-positioned rows", () => {
  const raw = `${Array.from({ length: 60 }, (_, i) => `line ${i}\r\n`).join("")}\r\n\r\n\x1b[7;3Hrow a\x1b[8;3Hrow b`;
  const tail = serialTail(raw, 5).split("\n");
  assert.deepEqual(tail, ["line 57", "line 58", "line 59", "row a", "row b"]);
});

test("SerialConsole waits for text from a position and types in chunks", async () => {
  const output = new PassThrough();
  const input = new PassThrough();
  const typed: Buffer[] = [];
  input.on("data", (d: Buffer) => typed.push(d));
  const serial = new SerialConsole(output, input);
  output.write("booting\r\n");
  const from = serial.position;
  const waiting = serial.waitFor(/\(initramfs\) $/m, 2000, from, true);
  output.write("\x1b[1m(initramfs)\x1b[0m ");
  assert.equal(await waiting, serial.position);
  assert.equal(await serial.waitFor(/booting/, 50, from), undefined, "text before the position is not seen");
  await serial.type("abcdefghij", { chunk: 4, delayMs: 1 });
  assert.deepEqual(
    typed.map((b) => b.toString()),
    ["abcd", "efgh", "ij"],
  );
});

test("SerialConsole stops waiting when the output ends", async () => {
  const output = new PassThrough();
  const serial = new SerialConsole(output, new PassThrough());
  const waiting = serial.waitFor(/never/, 10_000);
  output.end("bye");
  output.resume();
  assert.equal(await waiting, undefined);
  assert.equal(serial.tail(), "bye");
});
