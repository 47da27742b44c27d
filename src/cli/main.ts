// The `strata` command line: runs the program on the process's arguments and streams.
import { runCli } from "./run-cli.ts";

process.exitCode = await runCli(process.argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
