// The `strata` command line: parses arguments and dispatches to commands.
import { CliError } from "./errors.ts";
import { buildProgram, SilentExit } from "./program.ts";

const program = buildProgram({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof SilentExit) return;
  process.stderr.write(`strata: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
});
