// Builds the commander program with every command.
import { Command } from "commander";
import { usageError } from "./errors.ts";
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

import { VERSION } from "./version.ts";

export { VERSION };

export function buildProgram(io: CliIo): Command {
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
  registerServe(program, io);
  registerHashPassword(program, io);
  registerGc(program, io);
  registerLogin(program, io);
  registerGallery(program, io);
  registerImage(program, io);
  registerVersion(program, io);
  registerChannel(program, io);
  registerPromote(program, io);
  registerAudit(program, io);
  registerBuild(program, io);
  registerRun(program, io);
  return program;
}

/** Thrown after help or the version was printed, so parsing stops without an error message. */
export class SilentExit extends Error {
  constructor(readonly exitCode: number = 0) {
    super("(output printed)");
  }
}
