// `strata gallery create|list|show|set|member`: galleries, their settings and members.
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { MODES, ROLES } from "../api-values.ts";
import { collect, defined, galleryPath, parseChoice, parseInteger, parsePairs } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printObject, printTable, show } from "../output.ts";

interface Gallery {
  name: string;
  description: string;
  mode: string;
  approvals: number;
  restoreDays: number;
  members: Record<string, string>;
}

interface SettingFlags extends ApiFlags {
  description?: string;
  mode?: string;
  approvals?: string;
  restoreDays?: string;
}

function settings(flags: SettingFlags) {
  return defined({
    description: flags.description,
    mode: parseChoice("--mode", flags.mode, MODES),
    approvals: parseInteger("--approvals", flags.approvals),
    restoreDays: parseInteger("--restore-days", flags.restoreDays),
  });
}

function withSettings(command: Command): Command {
  return command
    .option("--description <text>", "what the gallery holds")
    .option("--mode <mode>", "enforce | warn | off: what pulls of revoked or end-of-life versions get")
    .option("--approvals <n>", "approvals a copy into this gallery needs")
    .option("--restore-days <n>", "days a deleted version stays restorable");
}

function printGallery(io: CliIo, g: Gallery): void {
  printObject(io, {
    name: g.name,
    description: g.description,
    mode: g.mode,
    approvals: g.approvals,
    restoreDays: g.restoreDays,
    members: Object.entries(g.members)
      .map(([u, r]) => `${u}=${r}`)
      .join(", "),
  });
}

export function registerGallery(program: Command, io: CliIo): void {
  const gallery = program
    .command("gallery")
    .description("Galleries: namespaces with members, roles and an enforcement mode");

  withSettings(apiCommand(gallery, "create <name>", "Create a gallery; you become its admin"))
    .option("--member <user=role>", "add a member (reader, publisher, approver, admin); repeatable", collect)
    .action(async (name: string, flags: SettingFlags & { member?: string[] }) => {
      const members = parsePairs("--member", flags.member);
      for (const [user, role] of Object.entries(members ?? {})) parseChoice(`role of ${user}`, role, ROLES);
      const body = { name, ...settings(flags), ...(members === undefined ? {} : { members }) };
      const answer = await (await clientFor(flags, io.env)).call("POST", "/galleries", body);
      show(io, flags, answer.body as Gallery, (g) => io.stdout.write(`Created gallery ${g.name}\n`));
    });

  apiCommand(gallery, "list", "List the galleries you are a member of").action(async (flags: ApiFlags) => {
    const answer = await (await clientFor(flags, io.env)).call("GET", "/galleries");
    show(io, flags, answer.body as Gallery[], (rows) =>
      printTable(
        io,
        [
          ["NAME", (g: Gallery) => g.name],
          ["MODE", (g: Gallery) => g.mode],
          ["MEMBERS", (g: Gallery) => Object.keys(g.members).length],
          ["DESCRIPTION", (g: Gallery) => g.description],
        ],
        rows,
      ),
    );
  });

  apiCommand(gallery, "show <name>", "Show a gallery's settings and members").action(
    async (name: string, flags: ApiFlags) => {
      const answer = await (await clientFor(flags, io.env)).call("GET", galleryPath(name));
      show(io, flags, answer.body as Gallery, (g) => printGallery(io, g));
    },
  );

  withSettings(apiCommand(gallery, "set <name>", "Change a gallery's settings (admin)")).action(
    async (name: string, flags: SettingFlags) => {
      const body = settings(flags);
      if (Object.keys(body).length === 0)
        throw usageError("Nothing to change: give --description, --mode, --approvals or --restore-days");
      const answer = await (await clientFor(flags, io.env)).call("PATCH", galleryPath(name), body);
      show(io, flags, answer.body as Gallery, (g) => printGallery(io, g));
    },
  );

  apiCommand(
    gallery,
    "member <name> <user> [role]",
    "Give a user a role in a gallery, or remove them with --remove (admin)",
  )
    .option("--remove", "remove the user from the gallery")
    .action(
      async (
        name: string,
        user: string,
        role: string | undefined,
        flags: ApiFlags & { remove?: boolean },
      ) => {
        if ((role === undefined) !== (flags.remove === true))
          throw usageError("Give either a role or --remove");
        parseChoice("role", role, ROLES);
        const client = await clientFor(flags, io.env);
        const path = `${galleryPath(name)}/members/${encodeURIComponent(user)}`;
        const answer =
          role === undefined ? await client.call("DELETE", path) : await client.call("PUT", path, { role });
        show(io, flags, answer.body as Gallery, () =>
          io.stdout.write(
            role === undefined ? `Removed ${user} from ${name}\n` : `${user} is ${role} in ${name}\n`,
          ),
        );
      },
    );

  apiCommand(gallery, "delete <name>", "Remove a gallery that has no image definitions (admin)").action(
    async (name: string, flags: ApiFlags) => {
      const answer = await (await clientFor(flags, io.env)).call("DELETE", galleryPath(name));
      show(io, flags, answer.body as Gallery, (g) => io.stdout.write(`Removed gallery ${g.name}\n`));
    },
  );
}
