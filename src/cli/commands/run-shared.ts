// What the container commands share: the runner's state folder (the data folder), the runner
// library loaded when a command needs it, its errors as CLI errors, and going through several
// named containers as docker does.
import type { CliIo } from "../io.ts";
import { CliError } from "../errors.ts";
import { dataDir } from "../images.ts";
import { SilentExit } from "../silent-exit.ts";

export const stateOf = (io: CliIo): string => dataDir(io.env);

/** The runner, loaded only by the commands that use it. */
export async function runLib() {
  const lib = await import("../../run/index.ts");
  return lib;
}

/** A RunError becomes a CLI error: a usage error exits 2, others 1. */
export function cliError(error: unknown, RunError: new (...args: never[]) => Error): never {
  if (error instanceof RunError)
    throw new CliError(error.message, (error as unknown as { usage: boolean }).usage ? 2 : 1);
  throw error;
}

/**
 * Runs `each` for every container named, going on after a failure as `docker rm a b` does;
 * each failure is printed, and the command then exits with the worst status.
 */
export async function eachContainer(
  io: CliIo,
  names: readonly string[],
  each: (name: string) => Promise<void>,
): Promise<void> {
  let status = 0;
  for (const name of names) {
    try {
      await each(name);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      io.stderr.write(`Error: ${error.message}\n`);
      status = Math.max(status, error.exitCode);
    }
  }
  if (status !== 0) throw new SilentExit(status);
}
