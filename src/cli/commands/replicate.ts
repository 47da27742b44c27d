// `strata replicate set|status`: a version's target sites and the state of its copies there.
// The `replicate` group is looked up before it is made, so other files may add subcommands to it
// whichever registers first.
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { galleryPath, imagePath, parseImageRef, parseVersionRef, versionPath } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";

const STATES = ["pending", "copying", "completed", "failed", "removing"] as const;

export interface Replica {
  gallery: string;
  image: string;
  version: string;
  site: string;
  region?: string;
  state: string;
  bytesDone: number;
  bytesTotal: number;
  attempts: number;
  error?: string;
  nextAttemptAt?: string;
  completedAt?: string;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Bytes with one decimal past bytes: `120.3 MiB`. */
function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** What the PROGRESS column shows for a copy. */
export function progressText(r: Pick<Replica, "state" | "bytesDone" | "bytesTotal">): string {
  if (r.state === "pending" || r.state === "removing") return "-";
  if (r.state === "completed") return r.bytesTotal === 0 ? "nothing missing" : `${bytes(r.bytesTotal)} sent`;
  return `${bytes(r.bytesDone)} of ${bytes(r.bytesTotal)}`;
}

/** One line per copy: VERSION SITE STATE PROGRESS ERROR. */
export function printReplicas(io: CliIo, rows: readonly Replica[]): void {
  printTable(
    io,
    [
      ["VERSION", (r: Replica) => `${r.gallery}/${r.image}:${r.version}`],
      ["SITE", (r: Replica) => (r.region === undefined ? r.site : `${r.site} (${r.region})`)],
      ["STATE", (r: Replica) => r.state],
      ["PROGRESS", (r: Replica) => progressText(r)],
      [
        "ERROR",
        (r: Replica) =>
          r.error === undefined
            ? undefined
            : `${r.error}${r.state === "failed" && r.nextAttemptAt !== undefined ? ` (retry at ${r.nextAttemptAt.slice(0, 19)}Z)` : ""}`,
      ],
    ],
    rows,
  );
}

/** The `replicate` group, made when no other file made it first. */
function replicateGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "replicate") ??
    program
      .command("replicate")
      .description("Replication of versions to other sites: targets, status and plans")
  );
}

export function registerReplicate(program: Command, io: CliIo): void {
  const group = replicateGroup(program);

  apiCommand(group, "set <version-ref>", "Set the sites a version is replicated to (GALLERY/NAME@VERSION)")
    .requiredOption("--sites <names>", "comma-separated site names; an empty string removes every copy")
    .action(async (ref: string, flags: ApiFlags & { sites: string }) => {
      const target = parseVersionRef(ref);
      const sites = flags.sites
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      const answer = await (
        await clientFor(flags, io.env)
      ).call("PUT", `${versionPath(target)}/replication`, { sites });
      show(io, flags, answer.body as Replica[], (rows) => printReplicas(io, rows));
    });

  apiCommand(
    group,
    "status [ref]",
    "Show copies of versions at their sites: all, of a GALLERY, GALLERY/NAME or GALLERY/NAME@VERSION",
  )
    .option("--state <state>", `only copies in this state (${STATES.join(", ")})`)
    .action(async (ref: string | undefined, flags: ApiFlags & { state?: string }) => {
      if (flags.state !== undefined && !(STATES as readonly string[]).includes(flags.state))
        throw usageError(`Invalid --state "${flags.state}": expected one of ${STATES.join(", ")}`);
      const client = await clientFor(flags, io.env);
      let rows: Replica[];
      if (ref !== undefined && /[:@]/.test(ref)) {
        const answer = await client.call("GET", `${versionPath(parseVersionRef(ref))}/replication`);
        rows = (answer.body as Replica[]).filter((r) => flags.state === undefined || r.state === flags.state);
      } else {
        const query = new URLSearchParams();
        if (ref !== undefined && ref.includes("/")) {
          const image = parseImageRef(ref);
          // Checks the definition exists (a clear 404 rather than an empty list).
          await client.call("GET", imagePath(image));
          query.set("gallery", image.gallery);
          query.set("image", image.image);
        } else if (ref !== undefined) {
          await client.call("GET", galleryPath(ref));
          query.set("gallery", ref);
        }
        if (flags.state !== undefined) query.set("state", flags.state);
        const text = query.toString();
        rows = (await client.call("GET", `/replication${text === "" ? "" : `?${text}`}`)).body as Replica[];
      }
      show(io, flags, rows, (r) => printReplicas(io, r));
    });
}
