// `strata audit GALLERY`: the gallery's audit log, newest first, with filters.
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { defined, galleryPath, parseInteger } from "../args.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";

interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  image?: string;
  version?: string;
  target?: string;
}

export function registerAudit(program: Command, io: CliIo): void {
  apiCommand(program, "audit <gallery>", "Show who changed what and when in a gallery, newest first")
    .option("--image <name>", "only this image definition")
    .option("--version <version>", "only this version")
    .option("--actor <user>", "only changes by this user")
    .option("--action <action>", "only this action, or a prefix ending in '.' (e.g. version.)")
    .option("--since <date>", "from this date or date-time")
    .option("--until <date>", "before this date or date-time")
    .option("--limit <n>", "at most this many entries (1-1000, default 100)")
    .action(
      async (
        gallery: string,
        flags: ApiFlags & {
          image?: string;
          version?: string;
          actor?: string;
          action?: string;
          since?: string;
          until?: string;
          limit?: string;
        },
      ) => {
        const limit = parseInteger("--limit", flags.limit);
        const query = new URLSearchParams(
          defined({
            image: flags.image,
            version: flags.version,
            actor: flags.actor,
            action: flags.action,
            since: flags.since,
            until: flags.until,
            limit: limit === undefined ? undefined : String(limit),
          }) as Record<string, string>,
        ).toString();
        const answer = await (
          await clientFor(flags, io.env)
        ).call("GET", `${galleryPath(gallery)}/audit${query === "" ? "" : `?${query}`}`);
        show(io, flags, answer.body as Entry[], (rows) =>
          printTable(
            io,
            [
              ["TIME", (e: Entry) => `${e.at.slice(0, 19)}Z`],
              ["ACTOR", (e: Entry) => e.actor],
              ["ACTION", (e: Entry) => e.action],
              [
                "IMAGE",
                (e: Entry) =>
                  e.image === undefined
                    ? undefined
                    : `${e.image}${e.version === undefined ? "" : `:${e.version}`}`,
              ],
              ["TARGET", (e: Entry) => e.target],
            ],
            rows,
          ),
        );
      },
    );
}
