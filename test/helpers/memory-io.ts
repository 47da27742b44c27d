// A CliIo in memory: standard input from a string, and what a command writes kept as text, so
// commands run in process (tests, other code) without a terminal.
import { PassThrough, Writable } from "node:stream";
import type { CliIo } from "../../src/cli/io.ts";

export interface MemoryIo extends CliIo {
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

export function memoryIo(env: Record<string, string | undefined>, stdin = ""): MemoryIo {
  const written = { out: "", err: "" };
  // Kept as written, synchronously: the text is complete as soon as a command returns.
  const sink = (key: keyof typeof written) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        written[key] += typeof chunk === "string" ? chunk : chunk.toString("utf8");
        done();
      },
    });
  const input = new PassThrough();
  input.end(stdin);
  return {
    stdout: sink("out"),
    stderr: sink("err"),
    stdin: input,
    env,
    out: () => written.out,
    err: () => written.err,
  };
}
