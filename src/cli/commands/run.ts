// `strata run` and `strata commit`: containers from images through runc, and a kept container's
// changes back into an image. Layers are unpacked once into the data folder and shared through
// overlayfs; a container is removed when it exits unless kept (--keep) or detached (-d).
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parseSize } from "../../lib/size.ts";
import { collect } from "../args.ts";
import { usageError } from "../errors.ts";
import { RUN_HABITS, refuseHabits } from "../habits.ts";
import { localImages, parseImageLocation, resolveImage } from "../images.ts";
import { checkRunPolicy } from "../run-policy.ts";
import type { CliIo } from "../io.ts";
import { printJson } from "../output.ts";
import { requireHostPlatform } from "../platform.ts";
import { SilentExit } from "../silent-exit.ts";
import { cliError, runLib, stateOf } from "./run-shared.ts";

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
      if (ref.kind === "name")
        await checkRunPolicy(io, ref.reference.registry, ref.text, { insecure: flags.insecure === true });
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
