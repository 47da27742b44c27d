// `strata replicate plan GALLERY/NAME@VERSION --sites eu,us`: per site, the bytes replicating the
// version would move (only what the site lacks), the one-time egress cost and the monthly storage
// cost. Exit 1 when a site could not be reached (the others are still shown), 2 for bad input.
import type { Command } from "commander";
import type { ReplicationPlan } from "../../usage/index.ts";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { parseVersionRef, versionPath } from "../args.ts";
import { CliError, usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";
import { formatBytes } from "../sizes.ts";

/** The `replicate` command group, shared with the replication commands. */
export function replicateGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "replicate") ??
    program.command("replicate").description("Replicate versions to other sites: plans, targets and status")
  );
}

export function registerReplicatePlan(program: Command, io: CliIo): void {
  apiCommand(
    replicateGroup(program),
    "plan <version>",
    "Show per site what replicating GALLERY/NAME@VERSION would move and cost",
  )
    .option(
      "--sites <names>",
      "comma-separated site names (default: the version's targets, else the definition's, else all)",
    )
    .action(async (reference: string, flags: ApiFlags & { sites?: string }) => {
      const ref = parseVersionRef(reference);
      if (flags.sites !== undefined && flags.sites.split(",").some((s) => s.trim() === ""))
        throw usageError(`Invalid --sites "${flags.sites}": expected site names separated by commas`);
      const query = flags.sites === undefined ? "" : `?sites=${encodeURIComponent(flags.sites)}`;
      let plan: ReplicationPlan;
      try {
        plan = (
          await (await clientFor(flags, io.env)).call("GET", `${versionPath(ref)}/replication/plan${query}`)
        ).body as ReplicationPlan;
      } catch (error) {
        // An unknown site or a malformed list is bad input, as a usage error is.
        if (error instanceof CliError && error.status === 400)
          throw new CliError(error.message, 2, { cause: error });
        throw error;
      }
      show(io, flags, plan, (p) => printPlan(io, p));
      const down = plan.sites.filter((s) => s.status !== "ok");
      if (down.length > 0) {
        if (flags.json === true)
          for (const s of down) io.stderr.write(`site ${s.site} unreachable: ${s.reason ?? "no answer"}\n`);
        throw new CliError(
          `${down.length} of ${plan.sites.length} sites could not be reached: ${down.map((s) => s.site).join(", ")}`,
        );
      }
    });
}

function printPlan(io: CliIo, plan: ReplicationPlan): void {
  io.stdout.write(
    `${plan.gallery}/${plan.image}:${plan.version} (${plan.digest.slice(0, 19)}…): ` +
      `${formatBytes(plan.total.bytes)} in ${plan.total.blobs} blobs and ${plan.total.manifests} manifests, referrers included\n`,
  );
  type S = ReplicationPlan["sites"][number];
  printTable(
    io,
    [
      ["SITE", (s: S) => s.site],
      ["REGION", (s: S) => s.region],
      ["REPOSITORY", (s: S) => s.repository],
      ["TO MOVE", (s: S) => (s.missing === undefined ? undefined : formatBytes(s.missing.bytes))],
      [
        "OBJECTS",
        (s: S) => (s.missing === undefined ? undefined : `${s.missing.blobs + s.missing.manifests}`),
      ],
      ["EGRESS (ONCE)", (s: S) => (s.egressCost === undefined ? undefined : s.egressCost.toFixed(2))],
      ["STORAGE/MONTH", (s: S) => s.storageMonthlyCost.toFixed(2)],
      ["STATUS", (s: S) => (s.status === "ok" ? "ok" : `unreachable: ${s.reason ?? ""}`)],
    ],
    plan.sites,
  );
}
