// `strata ps|rm|logs|stop|kill`: containers listed, removed and controlled from any terminal,
// through the runner's records and runc's state (docker's habits: ps -a/-q/--format, rm -v,
// logs --tail).
import type { Command } from "commander";
import { usageError } from "../errors.ts";
import { FILTER_HABITS, LOGS_HABITS, refuseHabits } from "../habits.ts";
import type { CliIo } from "../io.ts";
import { printJson, printTable } from "../output.ts";
import { printFormatted, type Fields } from "../row-format.ts";
import { cliError, eachContainer, runLib, stateOf } from "./run-shared.ts";

export function registerContainers(program: Command, io: CliIo): void {
  const ps = program
    .command("ps")
    .description("List containers: running, kept and detached ones")
    .option("-a, --all", "accepted for docker's habit: every container is listed anyway")
    .option("-q, --quiet", "print only the names")
    .option("--format <template>", "a Go template subset: {{.Names}}, {{.Image}}, {{json .}}, table …")
    .option("--json", "print JSON")
    .action(async (flags: { json?: boolean; quiet?: boolean; format?: string }) => {
      const { listContainers } = await runLib();
      const rows = await listContainers(stateOf(io));
      const json = (r: (typeof rows)[number]) => ({
        name: r.name,
        image: r.image,
        status: r.status,
        exitCode: r.exitCode,
        created: r.created,
      });
      const status = (r: (typeof rows)[number]) =>
        r.status === "exited" ? `exited (${r.exitCode ?? "unknown"})` : r.status;
      if (flags.json === true) printJson(io, rows.map(json));
      else if (flags.quiet === true) for (const r of rows) io.stdout.write(`${r.name}\n`);
      else if (flags.format !== undefined) {
        const fields: Fields<(typeof rows)[number]> = {
          Names: (r) => r.name,
          ID: (r) => r.name,
          Image: (r) => r.image,
          Command: (r) => r.command.join(" "),
          Status: status,
          State: (r) => r.status,
          ExitCode: (r) => (r.exitCode === undefined ? "" : String(r.exitCode)),
          CreatedAt: (r) => r.created,
        };
        printFormatted(io, flags.format, fields, rows, json);
      } else
        printTable(
          io,
          [
            ["NAME", (r) => r.name],
            ["IMAGE", (r) => r.image],
            ["STATUS", status],
            ["CREATED", (r) => r.created.slice(0, 19)],
          ],
          rows,
        );
    });

  refuseHabits(ps, FILTER_HABITS);

  program
    .command("rm <container...>")
    .description("Remove containers that have ended (kept or detached ones)")
    .option("-f, --force", "kill a running container first")
    .option("-v, --volumes", "accepted for docker's habit: volumes are host paths and are never removed")
    .action(async (names: string[], flags: { force?: boolean }) => {
      const { removeContainer, RunError } = await runLib();
      await eachContainer(io, names, async (name) => {
        await removeContainer(stateOf(io), name, flags.force === true).catch((error: unknown) =>
          cliError(error, RunError),
        );
        io.stdout.write(`Removed ${name}\n`);
      });
    });

  const logs = program
    .command("logs <container>")
    .description("Print a detached container's output: standard output and error each to its own")
    .option("-f, --follow", "go on printing until the container ends")
    .option("-n, --tail <lines>", "only the last LINES lines of each stream (or all)")
    .action(async (name: string, flags: { follow?: boolean; tail?: string }) => {
      const tail = flags.tail === undefined || flags.tail === "all" ? undefined : Number(flags.tail);
      if (flags.tail !== undefined && flags.tail !== "all" && !/^\d{1,9}$/.test(flags.tail))
        throw usageError(`Invalid --tail "${flags.tail}": expected a number of lines, or all`);
      const { containerLogs, RunError } = await runLib();
      await containerLogs(stateOf(io), name, {
        stdout: (chunk) => io.stdout.write(chunk),
        stderr: (chunk) => io.stderr.write(chunk),
        follow: flags.follow === true,
        ...(tail === undefined ? {} : { tail }),
      }).catch((error: unknown) => cliError(error, RunError));
    });
  refuseHabits(logs, LOGS_HABITS);

  program
    .command("stop <container...>")
    .description("Stop running containers: the image's stop signal (default SIGTERM), then SIGKILL")
    .option("-t, --time <seconds>", "how long to wait before SIGKILL", "10")
    .action(async (names: string[], flags: { time: string }) => {
      if (!/^\d{1,6}$/.test(flags.time))
        throw usageError(`Invalid --time "${flags.time}": expected whole seconds`);
      const { stopContainer, RunError } = await runLib();
      await eachContainer(io, names, async (name) => {
        const outcome = await stopContainer(stateOf(io), name, Number(flags.time)).catch((error: unknown) =>
          cliError(error, RunError),
        );
        io.stdout.write(
          outcome.wasRunning
            ? `Stopped ${name}${outcome.killed ? " (killed after the timeout)" : ""}\n`
            : `${name} was not running\n`,
        );
      });
    });

  program
    .command("kill <container...>")
    .description("Send a signal to running containers")
    .option("-s, --signal <signal>", "the signal, by name or number", "KILL")
    .action(async (names: string[], flags: { signal: string }) => {
      const { killContainer, RunError } = await runLib();
      for (const name of names) {
        await killContainer(stateOf(io), name, flags.signal).catch((error: unknown) =>
          cliError(error, RunError),
        );
        io.stdout.write(`${name}\n`);
      }
    });
}
