/* eslint-disable no-control-regex -- the bars are drawn with terminal escape sequences */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { createProgress, renderBar } from "./progress.ts";

function io(tty: boolean) {
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let text = "";
  stderr.on("data", (c: Buffer) => (text += c.toString()));
  return {
    io: { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {} },
    text: () => text,
  };
}

describe("progress", () => {
  it("renders a bar with the share done and the sizes", () => {
    assert.equal(
      renderBar("sha256:0123456789abcdef", 1048576, 4 * 1048576),
      `  sha256:0123456789ab [${"=".repeat(8)}${" ".repeat(22)}] 1.0/4.0 MiB`,
    );
    assert.match(renderBar("sha256:x", 5, 0), /\[={30}\]/);
  });

  it("draws bars in place on a terminal and clears them before the next line", () => {
    const t = io(true);
    const p = createProgress(t.io, false);
    p.line("Pushing a");
    p.bytes("sha256:aaaa", 10, 20);
    p.bytes("sha256:aaaa", 20, 20);
    p.line("  sha256:aaaa pushed 20 bytes");
    p.done();
    const out = t.text();
    assert.match(out, /^Pushing a\n\r\x1b\[K {2}sha256:aaaa \[/);
    assert.match(out, /\] 0\.0\/0\.0 MiB\r/, "the first bar is drawn; the final one always");
    assert.match(out, /\r\x1b\[K {2}sha256:aaaa pushed 20 bytes\n$/);
  });

  it("prints lines without bars when not on a terminal, and nothing when quiet", () => {
    const plain = io(false);
    const p = createProgress(plain.io, false);
    p.line("step");
    p.bytes("sha256:aaaa", 10, 20);
    p.raw(Buffer.from("output\n"));
    p.done();
    assert.equal(plain.text(), "step\noutput\n");
    const quiet = io(true);
    const q = createProgress(quiet.io, true);
    q.line("step");
    q.bytes("sha256:aaaa", 10, 20);
    q.done();
    assert.equal(quiet.text(), "");
  });
});
