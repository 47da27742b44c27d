// Runs the `strata` program in-process on in-memory streams, as the binary would: returns the
// exit code and what it printed.
import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/run-cli.ts";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runStrata(
  args: readonly string[],
  env: Record<string, string | undefined>,
  /** Standard input's whole content (default: none). */
  input = "",
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await runCli(["node", "strata", ...args], { stdout, stderr, stdin, env });
  return { code, stdout: out, stderr: err };
}
