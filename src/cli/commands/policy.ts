// `strata policy list | decisions | check REF…`: the server's image policies, its decision log,
// and a decision for references at the `check` point, for CI. `check` prints one decision per
// reference and exits 0 when all are allowed, 1 when one is denied (an enforce policy failed), 3
// when some are warned and none denied; 2 is a usage error (nothing was sent).
import type { Command } from "commander";
import { clientFor, type ApiClient } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { defined, parseInteger } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printTable, show } from "../output.ts";
import { SilentExit } from "../silent-exit.ts";

interface Spec {
  name: string;
  mode?: string;
  points?: string[];
  scope?: { repositories?: string[]; galleries?: string[]; namespaces?: string[] };
  rules: Record<string, unknown>;
}

interface Failure {
  policy: string;
  mode: string;
  rule: string;
  reason: string;
}

interface Entry {
  at: string;
  point: string;
  outcome: string;
  reference: string;
  digest: string;
  user: string | null;
  failures: Failure[];
}

export interface CheckResult {
  reference: string;
  outcome: "allow" | "warn" | "deny";
  digest?: string;
  reasons: string[];
  failures: Failure[];
}

const POINTS = ["pull", "run", "admission", "check"];
const OUTCOMES = ["allow", "warn", "deny"];

/** Exit code of `strata policy check` for its results: 1 a denial, 3 warnings only, else 0. */
export function checkExitCode(results: readonly CheckResult[]): 0 | 1 | 3 {
  if (results.some((r) => r.outcome === "deny")) return 1;
  return results.some((r) => r.outcome === "warn") ? 3 : 0;
}

/**
 * References as the server reads them: `HOST/repo:tag` of the server itself loses its host
 * (the server may be reached under another name than the one in the reference).
 */
export function forServer(server: string, reference: string): string {
  const host = new URL(server).host;
  return reference.toLowerCase().startsWith(`${host}/`) ? reference.slice(host.length + 1) : reference;
}

/** Asks the server to decide `references` at `point`. */
export async function checkReferences(
  client: ApiClient,
  references: readonly string[],
  point: "check" | "run",
): Promise<CheckResult[]> {
  const answer = await client.call("POST", "/policy/check", {
    references: references.map((r) => forServer(client.server, r)),
    point,
  });
  // Shown as the user wrote them.
  return (answer.body as { results: CheckResult[] }).results.map((r, i) => ({
    ...r,
    reference: references[i] ?? r.reference,
  }));
}

export function registerPolicy(program: Command, io: CliIo): void {
  const policy = program.command("policy").description("The server's image policies and their decisions");

  apiCommand(policy, "list", "Show the policies the server decides with (strata.yaml `policies`)").action(
    async (flags: ApiFlags) => {
      const answer = await (await clientFor(flags, io.env)).call("GET", "/policies");
      show(io, flags, answer.body as Spec[], (rows) =>
        printTable(
          io,
          [
            ["NAME", (p: Spec) => p.name],
            ["MODE", (p: Spec) => p.mode ?? "audit"],
            ["POINTS", (p: Spec) => (p.points ?? POINTS).join(",")],
            [
              "SCOPE",
              (p: Spec) =>
                [
                  ...(p.scope?.repositories ?? []),
                  ...(p.scope?.galleries ?? []).map((g) => `gallery:${g}`),
                ].join(",") || "*",
            ],
            ["RULES", (p: Spec) => Object.keys(p.rules).join(",")],
          ],
          rows,
        ),
      );
    },
  );

  apiCommand(policy, "decisions", "Show recorded decisions that were not a plain allow, newest first")
    .option("--point <point>", `only decisions at this point (${POINTS.join(", ")})`)
    .option("--outcome <outcome>", `only this outcome (${OUTCOMES.join(", ")})`)
    .option("--policy <name>", "only decisions this policy failed")
    .option("--since <date>", "from this date or date-time")
    .option("--limit <n>", "at most this many entries (1-1000, default 100)")
    .action(
      async (
        flags: ApiFlags & {
          point?: string;
          outcome?: string;
          policy?: string;
          since?: string;
          limit?: string;
        },
      ) => {
        if (flags.point !== undefined && !POINTS.includes(flags.point))
          throw usageError(`Invalid --point "${flags.point}": expected one of ${POINTS.join(", ")}`);
        if (flags.outcome !== undefined && !OUTCOMES.includes(flags.outcome))
          throw usageError(`Invalid --outcome "${flags.outcome}": expected one of ${OUTCOMES.join(", ")}`);
        const limit = parseInteger("--limit", flags.limit);
        const query = new URLSearchParams(
          defined({
            point: flags.point,
            outcome: flags.outcome,
            policy: flags.policy,
            since: flags.since,
            limit: limit === undefined ? undefined : String(limit),
          }) as Record<string, string>,
        ).toString();
        const answer = await (
          await clientFor(flags, io.env)
        ).call("GET", `/policy/decisions${query === "" ? "" : `?${query}`}`);
        show(io, flags, answer.body as Entry[], (rows) =>
          printTable(
            io,
            [
              ["TIME", (e: Entry) => `${e.at.slice(0, 19)}Z`],
              ["POINT", (e: Entry) => e.point],
              ["OUTCOME", (e: Entry) => e.outcome],
              ["REFERENCE", (e: Entry) => e.reference],
              ["USER", (e: Entry) => e.user ?? undefined],
              [
                "FAILURES",
                (e: Entry) =>
                  e.failures.map((f) => `${f.policy}/${f.rule} (${f.mode}): ${f.reason}`).join("; "),
              ],
            ],
            rows,
          ),
        );
      },
    );

  apiCommand(
    policy,
    "check <reference...>",
    "Decide references against the server's policies (exit 0 allowed, 1 denied, 3 warned)",
  ).action(async (references: string[], flags: ApiFlags) => {
    const results = await checkReferences(await clientFor(flags, io.env), references, "check");
    if (flags.json === true) io.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
    else
      for (const r of results) {
        io.stdout.write(`${r.outcome}\t${r.reference}${r.digest === undefined ? "" : `@${r.digest}`}\n`);
        for (const reason of r.reasons) io.stdout.write(`  ${reason}\n`);
        for (const f of r.failures.filter((x) => x.mode === "audit"))
          io.stdout.write(`  (audit) policy "${f.policy}" rule ${f.rule}: ${f.reason}\n`);
      }
    const code = checkExitCode(results);
    if (code !== 0) throw new SilentExit(code);
  });
}
