// `strata run|ps|rm|commit|logs|stop|kill`: containers from images through runc. Layers are
// unpacked once into the data folder and shared through overlayfs; a container is removed when
// it exits unless kept (--keep) or detached (-d), and a kept one can be committed into a new image.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseSize } from "../../lib/size.ts";
import { collect } from "../args.ts";
import { CliError, usageError } from "../errors.ts";
import { dataDir, localImages, parseImageLocation, resolveImage } from "../images.ts";
import type { CliIo } from "../io.ts";
import { FILTER_HABITS, LOGS_HABITS, RUN_HABITS, refuseHabits } from "../habits.ts";
import { printJson, printTable } from "../output.ts";
import { requireHostPlatform } from "../platform.ts";
import { printFormatted, type Fields } from "../row-format.ts";
import { SilentExit } from "../silent-exit.ts";

interface RunFlags {
  name?: string;
  keep?: boolean;
  rm?: boolean;
  platform?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  network?: string;
  insecure?: boolean;
  interactive?: boolean;
  tty?: boolean;
  volume?: string[];
  readOnly?: boolean;
  tmpfs?: string[];
  memory?: string;
  pidsLimit?: string;
  cpus?: string;
  detach?: boolean;
}

/** The cgroup limits asked for; usage errors for values that are not limits. */
function limitsOf(flags: RunFlags): { memory?: number; pids?: number; cpus?: number } {
  const limits: { memory?: number; pids?: number; cpus?: number } = {};
  if (flags.memory !== undefined) {
    const bytes = parseSize(flags.memory);
    // Below 6 MiB runc cannot even start the container's first process.
    if (bytes === undefined || bytes < 6 * 2 ** 20)
      throw usageError(`Invalid --memory "${flags.memory}": expected a size of at least 6m, like 64m or 1g`);
    limits.memory = bytes;
  }
  if (flags.pidsLimit !== undefined) {
    const pids = Number(flags.pidsLimit);
    if (!/^\d+$/.test(flags.pidsLimit) || pids < 1 || !Number.isSafeInteger(pids))
      throw usageError(`Invalid --pids-limit "${flags.pidsLimit}": expected a whole number of at least 1`);
    limits.pids = pids;
  }
  if (flags.cpus !== undefined) {
    const cpus = Number(flags.cpus);
    if (!/^\d+(\.\d+)?$/.test(flags.cpus) || cpus < 0.01 || cpus > 1024)
      throw usageError(`Invalid --cpus "${flags.cpus}": expected a number of CPUs from 0.01, like 0.5 or 2`);
    limits.cpus = cpus;
  }
  return limits;
}

const stateOf = (io: CliIo): string => dataDir(io.env);

async function runLib() {
  const lib = await import("../../run/index.ts");
  return lib;
}

/**
 * The lines of `--env-file` files (as docker reads them: KEY=VALUE or KEY, blank lines and
 * `#` comments skipped, nothing unquoted), then `-e KEY=VALUE` as given; a KEY alone takes its
 * value from strata's own environment, and is left out when it has none (as docker does).
 */
async function envOf(flags: RunFlags, env: CliIo["env"]): Promise<string[] | undefined> {
  if (flags.env === undefined && flags.envFile === undefined) return undefined;
  const lines: string[] = [];
  for (const file of flags.envFile ?? []) {
    const text = await readFile(file, "utf8").catch((error: unknown) => {
      throw usageError(
        `Cannot read --env-file "${file}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    });
    for (const line of text.split(/\r?\n/)) {
      const entry = line.replace(/^\s+/, "");
      if (entry !== "" && !entry.startsWith("#")) lines.push(entry);
    }
  }
  return [...lines, ...(flags.env ?? [])].flatMap((e) => {
    if (e.includes("=")) return [e];
    const value = env[e];
    return value === undefined ? [] : [`${e}=${value}`];
  });
}

/** A RunError becomes a CLI error: a usage error exits 2, others 1. */
function cliError(error: unknown, RunError: new (...args: never[]) => Error): never {
  if (error instanceof RunError)
    throw new CliError(error.message, (error as unknown as { usage: boolean }).usage ? 2 : 1);
  throw error;
}

/**
 * Runs `each` for every container named, going on after a failure as `docker rm a b` does;
 * each failure is printed, and the command then exits with the worst status.
 */
async function eachContainer(
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

export function registerRun(program: Command, io: CliIo): void {
  const run = program
    .command("run <image> [command...]")
    .description(
      "Run a container from an image (oci-layout:PATH:TAG or a name) through runc; its output streams and its exit status is returned",
    )
    .option("--name <name>", "name the container (default a random id)")
    .option("--keep", "keep the container after it exits, to commit it later (default: removed)")
    .option("--rm", "remove the container when it exits (the default; docker's habit)")
    .option(
      "-e, --env <key[=value]>",
      "an environment variable (KEY alone: strata's own value of KEY); repeatable",
      collect,
    )
    .option(
      "--env-file <path>",
      "environment variables from a file, a KEY=VALUE (or KEY) per line; repeatable",
      collect,
    )
    .option("-w, --workdir <dir>", "the working directory (default the image's)")
    .option("-u, --user <user>", "the user (default the image's)")
    .option("--entrypoint <path>", "replace the image's entrypoint")
    .option("--network <mode>", "none (default) or host", "none")
    .option("-i, --interactive", "connect standard input (default: /dev/null)")
    .option("-t, --tty", "give the container a terminal (needs one on standard input)")
    .option("-d, --detach", "run in the background and print its name; it stays until strata rm")
    .option("-v, --volume <host:container[:ro]>", "bind a host file or directory; repeatable", collect)
    .option("--tmpfs <path>", "mount an empty writable tmpfs at a container path; repeatable", collect)
    .option("-m, --memory <size>", "limit the container's memory, like 64m or 1g")
    .option("--pids-limit <n>", "limit the number of processes in the container")
    .option("--cpus <n>", "limit the CPU time to this many CPUs (0.5, 2)")
    .option("--read-only", "mount the container's root read-only (volumes keep their mode)")
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--platform <os/arch>", "the image's platform: this machine's (no emulation)")
    .option("-q, --quiet", "accepted for docker's habit: a pull prints no progress anyway")
    .action(async (imageText: string, command: string[], flags: RunFlags) => {
      if (flags.network !== "none" && flags.network !== "host")
        throw usageError(`Invalid --network "${flags.network}": expected none or host`);
      if (flags.rm === true && flags.keep === true)
        throw usageError("--rm and --keep contradict each other: a container is removed unless kept");
      if (flags.rm === true && flags.detach === true)
        throw usageError(
          "--rm cannot be used with --detach: a detached container stays, with its logs, until strata rm NAME",
        );
      requireHostPlatform(flags.platform, "run");
      // The process's own descriptors go straight to the container; other streams (the
      // in-process runner) are relayed through pipes.
      const own = io.stdout === process.stdout && io.stderr === process.stderr && io.stdin === process.stdin;
      if (flags.detach === true && (flags.tty === true || flags.interactive === true))
        throw usageError(
          "--detach cannot be used with --tty or --interactive: a detached container has no terminal",
        );
      if (flags.tty === true && !(own && process.stdin.isTTY))
        throw usageError("--tty needs a terminal on standard input");
      const limits = limitsOf(flags);
      const environment = await envOf(flags, io.env);
      const { containerPath, parseVolume, runContainer, RunError } = await runLib();
      let volumes, tmpfs;
      try {
        volumes = (flags.volume ?? []).map((v) => parseVolume(v, process.cwd()));
        tmpfs = (flags.tmpfs ?? []).map((p) => containerPath(p, `--tmpfs "${p}"`));
      } catch (error) {
        cliError(error, RunError);
      }
      const ref = parseImageLocation(imageText, "image");
      const image = await resolveImage(ref, { env: io.env, insecure: flags.insecure === true });
      const outcome = await runContainer({
        stateDir: stateOf(io),
        image,
        imageName: ref.kind === "layout" ? ref.text : ref.local,
        ...(flags.name === undefined ? {} : { name: flags.name }),
        keep: flags.keep === true,
        ...(command.length === 0 ? {} : { command }),
        ...(flags.entrypoint === undefined ? {} : { entrypoint: [flags.entrypoint] }),
        ...(environment === undefined ? {} : { env: environment }),
        ...(flags.workdir === undefined ? {} : { workdir: flags.workdir }),
        ...(flags.user === undefined ? {} : { user: flags.user }),
        network: flags.network,
        tty: flags.tty === true,
        volumes,
        tmpfs,
        readonlyRoot: flags.readOnly === true,
        limits,
        detach: flags.detach === true,
        stdio: own
          ? { kind: "inherit", stdin: flags.interactive === true }
          : {
              kind: "pipe",
              ...(flags.interactive === true ? { stdin: io.stdin } : {}),
              stdout: (chunk) => io.stdout.write(chunk),
              stderr: (chunk) => io.stderr.write(chunk),
            },
      }).catch((error: unknown) => cliError(error, RunError));
      if (flags.detach === true) {
        io.stdout.write(`${outcome.name}\n`);
        if (outcome.exitCode !== 0) {
          io.stderr.write(
            `Error: container ${outcome.name} ended at once with status ${outcome.exitCode} (strata logs ${outcome.name})\n`,
          );
          throw new SilentExit(outcome.exitCode);
        }
        return;
      }
      if (flags.keep === true) io.stderr.write(`Kept container ${outcome.name}\n`);
      if (outcome.exitCode !== 0) throw new SilentExit(outcome.exitCode);
    });
  refuseHabits(run, RUN_HABITS);

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

  program
    .command("commit <container>")
    .description("Turn a kept container's changes into a new image: its image plus one layer")
    .requiredOption(
      "-t, --tag <ref>",
      "where the image goes: oci-layout:PATH:TAG or a name in the local store",
    )
    .option("-m, --message <text>", "the history entry's comment")
    .option("-a, --author <name>", "the image's author")
    .option("--json", "print a JSON summary")
    .action(
      async (name: string, flags: { tag: string; message?: string; author?: string; json?: boolean }) => {
        const ref = parseImageLocation(flags.tag, "--tag");
        const epochText = io.env.SOURCE_DATE_EPOCH;
        if (epochText !== undefined && !/^\d{1,12}$/.test(epochText))
          throw usageError(`Invalid SOURCE_DATE_EPOCH "${epochText}": expected seconds since 1970`);
        const { commitContainer, RunError } = await runLib();
        const image = await commitContainer(stateOf(io), name, {
          ...(flags.message === undefined ? {} : { message: flags.message }),
          ...(flags.author === undefined ? {} : { author: flags.author }),
          ...(epochText === undefined ? {} : { epoch: Number(epochText) }),
        }).catch((error: unknown) => cliError(error, RunError));
        const { writeImageToLayout } = await import("../../builder/index.ts");
        const dir = ref.kind === "layout" ? ref.dir : localImages(io.env);
        const tag = ref.kind === "layout" ? ref.tag : ref.local;
        const digest = await writeImageToLayout(dir, image, tag);
        const layer = image.layers[image.layers.length - 1];
        if (flags.json === true)
          printJson(io, { digest, image: flags.tag, layer: { digest: layer?.digest, size: layer?.size } });
        else
          io.stdout.write(
            `Committed ${name} as ${flags.tag} ${digest} (new layer ${layer?.size ?? 0} bytes)\n`,
          );
      },
    );
}
