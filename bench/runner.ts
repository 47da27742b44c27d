// Runs one scenario against both servers: setup on each, one warm-up round each, then timed
// rounds interleaved Strata, Distribution, Strata, … so drift (page cache, thermal, background
// work) hits both alike. Before each round dirty pages are flushed (`sync`, untimed) so one
// round's disk writeback does not land in the next. Each server's RSS is sampled across the
// whole scenario.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpuMs } from "./cpu.ts";
import type { Env, Scenario, Unit } from "./scenario.ts";
import type { Side, Target } from "./servers.ts";
import { median, summarizeLatencies, type LatencySummary } from "./stats.ts";

export interface SideResult {
  readonly label: string;
  /** The figure of each timed round, in order. */
  readonly rounds: readonly number[];
  readonly median: number;
  /** Over every request of every timed round, when the scenario makes many. */
  readonly latencyMs?: LatencySummary;
  /** Server CPU time (user + system) over all timed rounds. */
  readonly cpuMs: number;
  readonly rssBeforeMiB: number;
  readonly peakRssMiB: number;
}

export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  readonly unit: Unit;
  readonly strata: SideResult;
  readonly distribution: SideResult;
  /** strata / distribution of the medians; > 1 means Strata did better. */
  readonly ratio: number;
}

const run = promisify(execFile);

async function flushDisk(): Promise<void> {
  await run("sync");
}

interface Collected {
  rounds: number[];
  latencies: number[];
  cpuMs: number;
}

export async function runScenario(
  scenario: Scenario,
  running: readonly Target[],
  env: Env,
  rounds: number,
): Promise<ScenarioResult> {
  if (scenario.peer === undefined) return runOn(scenario, running, env, rounds);
  const peer = await scenario.peer();
  try {
    return await runOn(
      scenario,
      running.map((t) => (t.side === peer.side ? peer : t)),
      env,
      rounds,
    );
  } finally {
    await peer.stop();
  }
}

async function runOn(
  scenario: Scenario,
  targets: readonly Target[],
  env: Env,
  rounds: number,
): Promise<ScenarioResult> {
  const rssBefore = await Promise.all(targets.map((t) => t.rss.mark()));
  const states = [];
  for (const target of targets) states.push(await scenario.setup(target, env));
  const collected: Collected[] = targets.map(() => ({ rounds: [], latencies: [], cpuMs: 0 }));
  const timedRounds = scenario.single === true ? 1 : rounds;
  const warmups = scenario.single === true ? 0 : 1;
  for (let r = -warmups; r < timedRounds; r++) {
    for (const [i, target] of targets.entries()) {
      await flushDisk();
      const cpuBefore = await cpuMs(target.pid);
      const result = await scenario.round(target, states[i], env);
      if (r < 0) continue;
      const into = collected[i] as Collected;
      into.cpuMs += (await cpuMs(target.pid)) - cpuBefore;
      into.rounds.push(result.value);
      // A loop, not push(...spread): thousands of samples would overflow the argument limit.
      for (const ms of result.latenciesMs ?? []) into.latencies.push(ms);
    }
  }
  const peaks = await Promise.all(targets.map((t) => t.rss.peak()));
  const side = (which: Side): SideResult => {
    const i = targets.findIndex((t) => t.side === which);
    const data = collected[i] as Collected;
    return {
      label: targets[i]?.label ?? which,
      rounds: data.rounds,
      median: median(data.rounds),
      ...(data.latencies.length > 0 ? { latencyMs: summarizeLatencies(data.latencies) } : {}),
      cpuMs: data.cpuMs,
      rssBeforeMiB: rssBefore[i] ?? Number.NaN,
      peakRssMiB: peaks[i] ?? Number.NaN,
    };
  };
  const strata = side("strata");
  const distribution = side("distribution");
  return {
    name: scenario.name,
    title: scenario.title,
    unit: scenario.unit,
    strata,
    distribution,
    ratio: strata.median / distribution.median,
  };
}
