// Runs the program on an argument list and turns its outcome into an exit code: a failure is
// printed once on stderr as "Error: <message>"; usage errors exit 2, other failures 1.
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";
import { buildProgram } from "./program.ts";
import { SilentExit } from "./silent-exit.ts";

/** `argv` as process.argv gives it: node, the script, then the arguments. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io, argv).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof SilentExit) return error.exitCode;
    io.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
