// `strata promote`, `strata requests`, `strata approve`, `strata reject`: promotion through
// channels and galleries, and the approvals it may need (two-person rule).
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { REQUEST_STATES } from "../api-values.ts";
import { defined, parseChoice, parseVersionRef } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";
import { approvalRequested, type Request, requestTarget as target } from "./request-answer.ts";

export function registerPromote(program: Command, io: CliIo): void {
  apiCommand(
    program,
    "promote <gallery/name@version>",
    "Move a version to a channel and/or copy it into another gallery",
  )
    .option(
      "--channel <channel>",
      "point this channel at the version (in the target gallery with --to-gallery)",
    )
    .option("--to-gallery <gallery>", "copy the version into this gallery (blobs linked, not copied)")
    .action(async (ref: string, flags: ApiFlags & { channel?: string; toGallery?: string }) => {
      const version = parseVersionRef(ref);
      if (flags.channel === undefined && flags.toGallery === undefined)
        throw usageError("Give --channel, --to-gallery or both");
      const answer = await (
        await clientFor(flags, io.env)
      ).call("POST", "/promotions", {
        gallery: version.gallery,
        image: version.image,
        version: version.version,
        ...defined({ channel: flags.channel, toGallery: flags.toGallery }),
      });
      const body = answer.body as { status: string; request?: Request };
      show(io, flags, body, (b) => {
        if (b.status === "pending" && b.request !== undefined) {
          io.stdout.write(approvalRequested(b.request));
        } else {
          io.stdout.write(
            `Promoted ${version.gallery}/${version.image}:${version.version}${flags.toGallery === undefined ? "" : ` into ${flags.toGallery}`}${flags.channel === undefined ? "" : ` → ${flags.channel}`}\n`,
          );
        }
      });
    });

  apiCommand(program, "requests", "List approval requests, newest first")
    .option("--gallery <gallery>", "only those of this gallery")
    .option("--state <state>", "pending | applied | rejected | failed")
    .action(async (flags: ApiFlags & { gallery?: string; state?: string }) => {
      const query = new URLSearchParams(
        defined({
          gallery: flags.gallery,
          state: parseChoice("--state", flags.state, REQUEST_STATES),
        }) as Record<string, string>,
      ).toString();
      const answer = await (
        await clientFor(flags, io.env)
      ).call("GET", `/requests${query === "" ? "" : `?${query}`}`);
      show(io, flags, answer.body as Request[], (rows) =>
        printTable(
          io,
          [
            ["ID", (r: Request) => r.id],
            ["STATE", (r: Request) => r.state],
            ["VERSION", (r: Request) => `${r.gallery}/${r.image}:${r.version}`],
            ["TARGET", target],
            ["BY", (r: Request) => r.requestedBy],
            ["APPROVALS", (r: Request) => `${r.approvals.length}/${r.required}`],
          ],
          rows,
        ),
      );
    });

  apiCommand(program, "approve <request>", "Approve a request (approver; not your own request)")
    .option("--comment <text>", "a note kept with the approval")
    .action(async (id: string, flags: ApiFlags & { comment?: string }) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("POST", `/requests/${encodeURIComponent(id)}/approve`, defined({ comment: flags.comment }));
      show(io, flags, answer.body as Request, (r) =>
        io.stdout.write(
          r.state === "applied"
            ? `Approved and applied: ${r.gallery}/${r.image}:${r.version} → ${target(r)}\n`
            : `Approved (${r.approvals.length}/${r.required})\n`,
        ),
      );
    });

  apiCommand(program, "reject <request>", "Reject a request (approver), or withdraw your own")
    .option("--reason <text>", "why")
    .action(async (id: string, flags: ApiFlags & { reason?: string }) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("POST", `/requests/${encodeURIComponent(id)}/reject`, defined({ comment: flags.reason }));
      show(io, flags, answer.body as Request, (r) => io.stdout.write(`Rejected ${r.id}\n`));
    });
}
