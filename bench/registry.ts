// `npm run bench`: measures how Strata and CNCF Distribution start (time to the first answer and
// idle memory, beside a bare Node.js server), then starts both on loopback, runs the same
// scenarios against both with interleaved rounds, prints the comparison tables and the target
// checks, and writes the figures to bench/results/registry-<timestamp>.json. See
// docs/benchmarks.md.
import { createPool, MiB, repeatingBlob, smallImage, type StreamedBlob } from "./payload.ts";
import { parseOptions, USAGE, type Options } from "./options.ts";
import {
  checkStartup,
  checkTargets,
  formatChecks,
  formatStartup,
  formatTable,
  writeResults,
  type TargetCheck,
} from "./report.ts";
import { runScenario, type ScenarioResult } from "./runner.ts";
import type { Env, Scenario } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { bundleStrata, startDistributionTarget, startStrataTarget, type Target } from "./servers.ts";
import { measureStartup } from "./startup.ts";

const RESULTS_DIR = new URL("results", import.meta.url).pathname;

/** The start-up section: not a scenario against running servers, it starts its own. */
const STARTUP = "startup";
/** Seconds a freshly started server idles before its resident memory is read. */
const IDLE_MS = 3000;

function selectScenarios(options: Options) {
  const unknown = options.only.filter((name) => name !== STARTUP && !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown scenario "${unknown.join('", "')}": known are ${[STARTUP, ...SCENARIOS.map((s) => s.name)].join(", ")}`,
    );
  }
  const only = options.only.filter((name) => name !== STARTUP);
  if (options.only.length > 0 && only.length === 0) return [];
  return SCENARIOS.filter(
    (s) =>
      (only.length === 0 || only.includes(s.name)) &&
      // A scenario comparing Strata with itself needs Strata.
      !(options.peerOnly && s.peer !== undefined) &&
      (options.stream || !s.name.startsWith("stream-") || only.includes(s.name)),
  );
}

function createEnv(options: Options): Env {
  let streamed: StreamedBlob | undefined;
  return {
    sizes: options.sizes,
    pool: createPool(options.sizes.large),
    image: smallImage(),
    streamedBlob() {
      streamed ??= repeatingBlob(MiB, options.sizes.streamMiB);
      return streamed;
    },
  };
}

async function startTargets(options: Options): Promise<Target[]> {
  const started = await Promise.allSettled([
    options.peerOnly ? startDistributionTarget("strata") : startStrataTarget(),
    startDistributionTarget("distribution"),
  ]);
  const targets = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(targets.map((t) => t.stop()));
    const hint = options.peerOnly ? "" : " (--peer-only runs Distribution on both sides)";
    throw new Error(`Cannot start the servers${hint}`, { cause: failed.reason });
  }
  return targets;
}

async function runScenarios(options: Options, scenarios: readonly Scenario[]): Promise<ScenarioRun> {
  const env = createEnv(options);
  let targets: Target[] = [];
  const stopAll = (): Promise<unknown> => Promise.all(targets.map((t) => t.stop()));
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
  // and a second signal without a handler would kill it before the servers are stopped.
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.error(`\n${signal}: stopping the servers`);
      void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
  targets = await startTargets(options);
  try {
    console.error(targets.map((t) => `${t.side}: ${t.label} at ${t.url} (pid ${t.pid})`).join("\n"));
    const results: ScenarioResult[] = [];
    for (const [i, scenario] of scenarios.entries()) {
      const started = performance.now();
      const r = await runScenario(scenario, targets, env, options.rounds);
      results.push(r);
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.error(
        `[${i + 1}/${scenarios.length}] ${r.name}: ${r.strata.median.toFixed(1)} vs ` +
          `${r.distribution.median.toFixed(1)} ${r.unit}, ratio ${r.ratio.toFixed(2)} (${secs} s)`,
      );
    }
    const highWater = await Promise.all(targets.map(async (t) => [t.side, await t.rss.highWater()] as const));
    const labels = Object.fromEntries(targets.map((t) => [t.side, t.label]));
    return { results, highWater: Object.fromEntries(highWater), labels };
  } finally {
    await stopAll();
  }
}

interface ScenarioRun {
  readonly results: ScenarioResult[];
  readonly highWater: Record<string, number>;
  readonly labels: Record<string, string>;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const scenarios = selectScenarios(options);
  const wantStartup = options.only.length === 0 || options.only.includes(STARTUP);
  // --peer-only is for when Strata cannot run; the start-up section needs it.
  const startupRuns = wantStartup && !options.peerOnly;
  if (!options.peerOnly) await bundleStrata();
  // Start-up first, before the scenarios' servers run, on as quiet a machine as the run gets.
  const startup = startupRuns
    ? await measureStartup({ runs: options.rounds, idleMs: IDLE_MS }, (line) => console.error(line))
    : undefined;
  const run = scenarios.length > 0 ? await runScenarios(options, scenarios) : undefined;

  const checks: TargetCheck[] = [];
  const mode = options.quick ? "quick" : "full";
  console.log(`\nRegistry benchmark (${mode}, ${options.rounds} rounds; ratio > 1: Strata better)`);
  if (startup !== undefined) {
    console.log(`\n${formatStartup(startup)}`);
    checks.push(...checkStartup(startup));
  }
  if (run !== undefined) {
    console.log(
      `\nStrata side: ${run.labels.strata ?? ""}; Distribution side: ${run.labels.distribution ?? ""}\n`,
    );
    console.log(formatTable(run.results));
    for (const r of run.results)
      if (r.distribution.label !== run.labels.distribution)
        console.log(`${r.name}: the Distribution columns are ${r.distribution.label}`);
    console.log(
      "Figures: medians of the rounds after a warm-up. Latency: over every request of every round.\n" +
        "CPU s: server user + system time over the timed rounds. RSS: each server's peak during the scenario.",
    );
    console.log(
      `\nPeak RSS over the whole run (VmHWM): ${Object.entries(run.highWater)
        .map(([s, m]) => `${s} ${m.toFixed(0)} MiB`)
        .join(", ")}`,
    );
    checks.push(...checkTargets(run.results));
  }
  console.log(formatChecks(checks));
  const file = await writeResults(RESULTS_DIR, {
    options: { ...options, only: [...options.only] },
    servers: run?.labels ?? {},
    startup,
    results: run?.results ?? [],
    highWaterMiB: run?.highWater ?? {},
    checks,
  });
  console.log(`\nResults: ${file}`);
}

main().catch((error: unknown) => {
  let line = "bench:";
  for (let e: unknown = error; e !== undefined; e = e instanceof Error ? e.cause : undefined) {
    console.error(`${line} ${e instanceof Error ? e.message : String(e)}`);
    line = "  cause:";
  }
  process.exitCode = 1;
});
