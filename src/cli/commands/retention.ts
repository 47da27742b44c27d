// `strata retention run GALLERY[/NAME]`: applies the retention rules of a definition, or of every
// definition of a gallery that has them, or with --dry-run lists what they would do.
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { galleryPath, imagePath, parseImageRef } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";
import { SilentExit } from "../silent-exit.ts";

interface Outcome {
  version: string;
  action: "deprecate" | "delete";
  rule: string;
  reason: string;
  status: "planned" | "applied" | "skipped" | "failed";
  error?: string;
}

interface Run {
  dryRun: boolean;
  definitions: {
    gallery: string;
    image: string;
    actions: Outcome[];
    held: { version: string; action: string; rule: string; reason: string }[];
    notes: string[];
    error?: string;
  }[];
}

const PAST = { deprecate: "Deprecated", delete: "Deleted" } as const;
const WOULD = { deprecate: "Would deprecate", delete: "Would delete" } as const;

/** What happened to the version, in words. */
function actionText(a: Outcome): string {
  switch (a.status) {
    case "planned":
      return WOULD[a.action];
    case "applied":
      return PAST[a.action];
    case "skipped":
      return `Skipped ${a.action}`;
    case "failed":
      return `Failed to ${a.action}`;
  }
}

export function registerRetention(program: Command, io: CliIo): void {
  const retention = program
    .command("retention")
    .description("Retention: retire old versions by the rules of their definition");

  apiCommand(
    retention,
    "run <gallery[/name]>",
    "Apply the retention rules of a definition, or of every definition of a gallery with rules (publisher); --dry-run lists what they would do (reader)",
  )
    .option("--dry-run", "change nothing: list what would be deprecated and deleted")
    .action(async (ref: string, flags: ApiFlags & { dryRun?: boolean }) => {
      let path: string;
      if (ref.includes("/")) path = `${imagePath(parseImageRef(ref))}/retention`;
      else if (ref === "" || /[:@]/.test(ref))
        throw usageError(`Invalid gallery "${ref}": expected GALLERY or GALLERY/NAME, e.g. prod or prod/web`);
      else path = `${galleryPath(ref)}/retention`;
      const dryRun = flags.dryRun === true;
      const answer = await (
        await clientFor(flags, io.env)
      ).call("POST", `${path}${dryRun ? "?dryRun=true" : ""}`, {});
      show(io, flags, answer.body as Run, (run) => {
        if (run.definitions.length === 0) {
          io.stdout.write("No image definition of the gallery has retention rules\n");
          return;
        }
        for (const [i, d] of run.definitions.entries()) {
          if (run.definitions.length > 1) io.stdout.write(`${i === 0 ? "" : "\n"}${d.gallery}/${d.image}\n`);
          if (d.error !== undefined) {
            io.stdout.write(`Error: ${d.error}\n`);
            continue;
          }
          printTable(
            io,
            [
              ["VERSION", (a: Outcome) => a.version],
              ["ACTION", actionText],
              ["RULE", (a: Outcome) => a.rule],
              ["REASON", (a: Outcome) => (a.error === undefined ? a.reason : `${a.reason}: ${a.error}`)],
            ],
            d.actions,
          );
          for (const h of d.held)
            io.stdout.write(`Kept ${h.version} (${h.rule} would ${h.action} it): ${h.reason}\n`);
          for (const note of d.notes) io.stdout.write(`Note: ${note}\n`);
        }
      });
      // A definition or an action that failed (its reason is printed) fails the command, as a
      // refusal does.
      const failed = (answer.body as Run).definitions.some(
        (d) => d.error !== undefined || d.actions.some((a) => a.status === "failed"),
      );
      if (failed) throw new SilentExit(1);
    });
}
