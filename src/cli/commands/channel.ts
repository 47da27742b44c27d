// `strata channel set|show|history|rollback`: channels point at versions and keep their history.
import type { Command } from "commander";
import { clientFor, type ApiAnswer } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { channelPath, defined, imagePath, parseImageRef, parseInteger } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printObject, printTable, show } from "../output.ts";
import { approvalRequested, type Request } from "./request-answer.ts";

interface Channel extends Record<string, unknown> {
  name: string;
  version: string | null;
  restricted: boolean;
  approvals: number;
  updatedAt: string;
  updatedBy: string;
}

interface Move {
  seq: number;
  action: string;
  previous: string | null;
  version: string | null;
  actor: string;
  at: string;
  request?: string;
}

/** Prints a move answer: moved (200) or an approval request (202). */
function printOutcome(io: CliIo, flags: ApiFlags, answer: ApiAnswer, what: string): void {
  const body = answer.body as {
    status: string;
    channel?: Channel;
    request?: Request;
  };
  show(io, flags, body, (b) => {
    if (b.status === "pending" && b.request !== undefined) {
      io.stdout.write(approvalRequested(b.request));
    } else {
      io.stdout.write(
        `${what}${b.channel === undefined ? "" : `: ${b.channel.name} → ${b.channel.version ?? "-"}`}\n`,
      );
    }
  });
}

export function registerChannel(program: Command, io: CliIo): void {
  const channel = program
    .command("channel")
    .description("Channels: named pointers at versions, with history and rollback");

  apiCommand(
    channel,
    "set <gallery/name> <channel> <version>",
    "Point a channel at a version (restricted channels need approval)",
  )
    .option("--restricted", "moves of this channel need approval from now on (admin)")
    .option("--unrestricted", "moves of this channel no longer need approval (admin)")
    .option("--approvals <n>", "approvals a move of a restricted channel needs (admin)")
    .action(
      async (
        ref: string,
        name: string,
        version: string,
        flags: ApiFlags & { restricted?: boolean; unrestricted?: boolean; approvals?: string },
      ) => {
        if (flags.restricted === true && flags.unrestricted === true)
          throw usageError("Give one of --restricted and --unrestricted");
        const image = parseImageRef(ref);
        const body = {
          version,
          ...defined({
            restricted: flags.restricted === true ? true : flags.unrestricted === true ? false : undefined,
            approvals: parseInteger("--approvals", flags.approvals),
          }),
        };
        const answer = await (await clientFor(flags, io.env)).call("PUT", channelPath(image, name), body);
        printOutcome(io, flags, answer, "Moved");
      },
    );

  apiCommand(
    channel,
    "show <gallery/name> [channel]",
    "Show a channel, or list the channels of an image",
  ).action(async (ref: string, name: string | undefined, flags: ApiFlags) => {
    const image = parseImageRef(ref);
    const client = await clientFor(flags, io.env);
    if (name !== undefined) {
      const answer = await client.call("GET", channelPath(image, name));
      show(io, flags, answer.body as Channel, (c) => printObject(io, c));
      return;
    }
    const answer = await client.call("GET", `${imagePath(image)}/channels`);
    show(io, flags, answer.body as Channel[], (rows) =>
      printTable(
        io,
        [
          ["CHANNEL", (c: Channel) => c.name],
          ["VERSION", (c: Channel) => c.version],
          ["RESTRICTED", (c: Channel) => (c.restricted ? `yes (${c.approvals})` : "no")],
          ["UPDATED", (c: Channel) => `${c.updatedAt.slice(0, 19)}Z by ${c.updatedBy}`],
        ],
        rows,
      ),
    );
  });

  apiCommand(channel, "history <gallery/name> <channel>", "Every move of a channel, newest first").action(
    async (ref: string, name: string, flags: ApiFlags) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("GET", `${channelPath(parseImageRef(ref), name)}/history`);
      show(io, flags, answer.body as Move[], (rows) =>
        printTable(
          io,
          [
            ["#", (m: Move) => m.seq],
            ["ACTION", (m: Move) => m.action],
            ["FROM", (m: Move) => m.previous],
            ["TO", (m: Move) => m.version],
            ["BY", (m: Move) => m.actor],
            ["AT", (m: Move) => `${m.at.slice(0, 19)}Z`],
            ["REQUEST", (m: Move) => m.request],
          ],
          rows,
        ),
      );
    },
  );

  apiCommand(channel, "rollback <gallery/name> <channel>", "Point a channel back at its previous version")
    .option("--to <version>", "a version the channel pointed at before")
    .action(async (ref: string, name: string, flags: ApiFlags & { to?: string }) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("POST", `${channelPath(parseImageRef(ref), name)}/rollback`, defined({ to: flags.to }));
      printOutcome(io, flags, answer, "Rolled back");
    });
}
