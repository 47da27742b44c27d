// Builds the commander program with every command.
import { Command } from "commander";
import { usageError } from "./errors.ts";
import { SilentExit } from "./silent-exit.ts";
import type { CliIo } from "./io.ts";
import { registerServe } from "./commands/serve.ts";
import { registerHashPassword } from "./commands/hash-password.ts";
import { registerGc } from "./commands/gc.ts";
import { registerLogin } from "./commands/login.ts";
import { registerGallery } from "./commands/gallery.ts";
import { registerImage } from "./commands/image.ts";
import { registerVersion } from "./commands/version.ts";
import { registerChannel } from "./commands/channel.ts";
import { registerPromote } from "./commands/promote.ts";
import { registerAudit } from "./commands/audit.ts";
import { registerBuild } from "./commands/build.ts";
import { registerRun } from "./commands/run.ts";
import { registerContainers } from "./commands/containers.ts";
import { registerImages } from "./commands/images.ts";
import { registerInspect } from "./commands/inspect.ts";
import { registerSystem } from "./commands/system.ts";
import { registerTransfer } from "./commands/transfer.ts";
import { registerDisk } from "./commands/disk.ts";
import { registerVm } from "./commands/vm.ts";
import { registerKey } from "./commands/key.ts";
import { registerSign } from "./commands/sign.ts";
import { registerDiff } from "./commands/diff.ts";
import { registerSbom } from "./commands/sbom.ts";
import { registerPolicy } from "./commands/policy.ts";
import { registerRetention } from "./commands/retention.ts";
import { registerReplicate } from "./commands/replicate.ts";
import { registerReplicatePlan } from "./commands/replicate-plan.ts";
import { registerUsage } from "./commands/usage.ts";

import { VERSION } from "./version.ts";

export { VERSION };

type Registrar = (program: Command, io: CliIo) => void;

/** Each top-level command and what registers it. */
const REGISTRARS: Readonly<Record<string, Registrar>> = {
  serve: registerServe,
  "hash-password": registerHashPassword,
  gc: registerGc,
  login: registerLogin,
  logout: registerLogin,
  gallery: registerGallery,
  image: registerImage,
  version: registerVersion,
  channel: registerChannel,
  promote: registerPromote,
  requests: registerPromote,
  approve: registerPromote,
  reject: registerPromote,
  audit: registerAudit,
  build: registerBuild,
  run: registerRun,
  ps: registerContainers,
  rm: registerContainers,
  commit: registerRun,
  logs: registerContainers,
  stop: registerContainers,
  kill: registerContainers,
  images: registerImages,
  tag: registerImages,
  rmi: registerImages,
  pull: registerTransfer,
  push: registerTransfer,
  copy: registerTransfer,
  inspect: registerInspect,
  system: registerSystem,
  disk: registerDisk,
  vm: registerVm,
  key: registerKey,
  sign: registerSign,
  verify: registerSign,
  diff: registerDiff,
  sbom: registerSbom,
  policy: registerPolicy,
  retention: registerRetention,
  usage: registerUsage,
  replicate: (program, io) => {
    registerReplicate(program, io);
    registerReplicatePlan(program, io);
  },
};

/**
 * The registrar of the command `argv` names when it starts with one (node, the script, then
 * the command), so only that command is set up; none (all of them) for help, options first or
 * a name that is not a command, where the full list is what gets printed.
 */
function commandOf(argv: readonly string[]): Registrar | undefined {
  const first = argv[2];
  return first === undefined || !Object.hasOwn(REGISTRARS, first) ? undefined : REGISTRARS[first];
}

/**
 * The program with every command, or with only the one `argv` names: setting up the others
 * costs a command's start for nothing.
 */
export function buildProgram(io: CliIo, argv?: readonly string[]): Command {
  const program = new Command("strata")
    .description("Strata: an image release platform on OCI content")
    .version(VERSION)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Parse errors are thrown as usage errors below and printed once by the caller.
      outputError: () => undefined,
    })
    .exitOverride((err) => {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") throw new SilentExit(0);
      // Help printed because a command was missing its subcommand.
      if (err.code === "commander.help") throw new SilentExit(2);
      throw usageError(err.message.replace(/^error: /, ""));
    });
  const chosen = argv === undefined ? undefined : commandOf(argv);
  for (const register of chosen === undefined ? new Set(Object.values(REGISTRARS)) : [chosen])
    register(program, io);
  return program;
}
