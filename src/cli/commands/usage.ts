// `strata usage`: pulls per version, last pulled, own and shared bytes, unused and stale
// versions and sprawl; with --costs, storage per site and gallery with its monthly cost.
import type { Command } from "commander";
import type { CostReport, UsageReport } from "../../usage/index.ts";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { defined, parseInteger } from "../args.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";
import { formatBytes } from "../sizes.ts";

interface UsageFlags extends ApiFlags {
  gallery?: string;
  unusedDays?: string;
  days?: string;
  costs?: boolean;
}

const money = (amount: number): string => amount.toFixed(2);
const date = (iso: string | null): string => (iso === null ? "never" : `${iso.slice(0, 19)}Z`);
const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`;

export function registerUsage(program: Command, io: CliIo): void {
  apiCommand(
    program,
    "usage",
    "Show pulls, storage, unused and stale versions and sprawl (or costs with --costs)",
  )
    .option("--gallery <name>", "only this gallery (default: every gallery you read)")
    .option("--unused-days <n>", "unused = not pulled for this many days (default 30)")
    .option("--days <n>", "days of pull counts (default 30)")
    .option("--costs", "storage per site and gallery with its monthly cost")
    .action(async (flags: UsageFlags) => {
      const unusedDays = parseInteger("--unused-days", flags.unusedDays);
      const days = parseInteger("--days", flags.days);
      const client = await clientFor(flags, io.env);
      if (flags.costs === true) {
        if (unusedDays !== undefined || days !== undefined)
          io.stderr.write("note: --unused-days and --days do not apply to --costs\n");
        const query = new URLSearchParams(defined({ gallery: flags.gallery }) as Record<string, string>);
        const q = query.toString();
        const answer = await client.call("GET", `/usage/costs${q === "" ? "" : `?${q}`}`);
        show(io, flags, answer.body as CostReport, (report) => printCosts(io, report));
        return;
      }
      const query = new URLSearchParams(
        defined({
          gallery: flags.gallery,
          unusedDays: unusedDays === undefined ? undefined : String(unusedDays),
          days: days === undefined ? undefined : String(days),
        }) as Record<string, string>,
      ).toString();
      const answer = await client.call("GET", `/usage${query === "" ? "" : `?${query}`}`);
      show(io, flags, answer.body as UsageReport, (report) => printUsage(io, report));
    });
}

function printUsage(io: CliIo, report: UsageReport): void {
  type V = UsageReport["versions"][number];
  const down = report.sites.filter((s) => s.status !== "ok");
  for (const site of down) io.stdout.write(`site ${site.name} unavailable: ${site.reason ?? "no answer"}\n`);
  io.stdout.write(`Versions (pulls over the last ${report.days} days, at site ${report.site} and others)\n`);
  printTable(
    io,
    [
      ["VERSION", (v: V) => `${v.gallery}/${v.image}:${v.version}`],
      ["STATE", (v: V) => v.state],
      ["PULLS", (v: V) => v.pulls.total],
      [`LAST ${report.days}D`, (v: V) => v.pulls.recent],
      [
        "BY SITE",
        (v: V) =>
          Object.entries(v.pulls.bySite)
            .map(([site, n]) => `${site}=${n}`)
            .join(" ") || undefined,
      ],
      ["LAST PULLED", (v: V) => date(v.pulls.lastPulledAt)],
      ["OWN", (v: V) => formatBytes(v.bytes.own)],
      ["SHARED", (v: V) => formatBytes(v.bytes.shared)],
    ],
    report.versions,
  );
  type U = UsageReport["unused"][number];
  io.stdout.write(`\nUnused for ${report.unusedDays} days or more\n`);
  printTable(
    io,
    [
      ["VERSION", (u: U) => `${u.gallery}/${u.image}:${u.version}`],
      ["LAST PULLED", (u: U) => date(u.lastPulledAt)],
      ["IDLE DAYS", (u: U) => u.idleDays],
    ],
    report.unused,
  );
  type S = UsageReport["stale"][number];
  io.stdout.write("\nStale (built longer ago than the definition's rebuild cadence)\n");
  printTable(
    io,
    [
      ["VERSION", (s: S) => `${s.gallery}/${s.image}:${s.version}`],
      ["BUILT", (s: S) => `${date(s.builtAt)} (${s.builtFrom})`],
      ["AGE DAYS", (s: S) => s.ageDays],
      ["REBUILD DAYS", (s: S) => s.rebuildDays],
    ],
    report.stale,
  );
  type D = UsageReport["sprawl"]["sharedDefinitions"][number];
  io.stdout.write("\nSprawl: definitions that are mostly the same bytes\n");
  printTable(
    io,
    [
      ["DEFINITION", (d: D) => d.a],
      ["AND", (d: D) => d.b],
      ["SHARED", (d: D) => formatBytes(d.sharedBytes)],
      ["OF LARGER", (d: D) => percent(d.ratio)],
    ],
    report.sprawl.sharedDefinitions,
  );
  type N = UsageReport["sprawl"]["nearIdentical"][number];
  io.stdout.write("\nSprawl: versions nearly identical to the one before\n");
  printTable(
    io,
    [
      ["VERSION", (n: N) => `${n.gallery}/${n.image}:${n.version}`],
      ["PREVIOUS", (n: N) => n.previous],
      ["SAME", (n: N) => formatBytes(n.sameBytes)],
      ["OF LARGER", (n: N) => percent(n.ratio)],
    ],
    report.sprawl.nearIdentical,
  );
}

function printCosts(io: CliIo, report: CostReport): void {
  type Row = { site: string; gallery: string; bytes: number; price: number; monthly: number };
  const rows: Row[] = [];
  for (const site of report.sites) {
    for (const g of site.galleries)
      rows.push({
        site: site.site,
        gallery: g.gallery,
        bytes: g.bytes,
        price: site.storagePerGiBMonth,
        monthly: g.monthly,
      });
    rows.push({
      site: site.site,
      gallery: "(all)",
      bytes: site.bytes,
      price: site.storagePerGiBMonth,
      monthly: site.monthly,
    });
  }
  printTable(
    io,
    [
      ["SITE", (r: Row) => r.site],
      ["GALLERY", (r: Row) => r.gallery],
      ["STORED", (r: Row) => formatBytes(r.bytes)],
      ["PER GIB-MONTH", (r: Row) => money(r.price)],
      ["MONTHLY", (r: Row) => money(r.monthly)],
    ],
    rows,
  );
  io.stdout.write(`Total monthly: ${money(report.monthly)}\n`);
}
