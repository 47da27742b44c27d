// What a benchmark scenario is — an untimed setup per server and timed rounds that each yield one
// figure (higher is better) and optionally request latencies — and helpers to time requests.
import type { Pool, SmallImage, StreamedBlob } from "./payload.ts";
import type { Target } from "./servers.ts";

export type Unit = "MiB/s" | "req/s";

export interface Sizes {
  readonly quick: boolean;
  /** Bytes in the random pool every blob is cut from; also the size of the "100 MB" blobs. */
  readonly large: number;
  readonly chunk: number;
  readonly smallPushes: number;
  readonly smallPulls: number;
  readonly manifestPuts: number;
  readonly manifestReads: number;
  readonly stormBlobs: number;
  readonly stormBlob: number;
  readonly tags: number;
  readonly tagLists: number;
  /** Size of the streamed blob, in MiB blocks. */
  readonly streamMiB: number;
}

export interface Env {
  readonly sizes: Sizes;
  readonly pool: Pool;
  readonly image: SmallImage;
  /** The multi-GiB streamed blob, created (and hashed) on first use. */
  streamedBlob(): StreamedBlob;
}

export interface RoundResult {
  /** The round's figure in the scenario's unit; higher is better. */
  readonly value: number;
  readonly latenciesMs?: readonly number[];
}

export interface Scenario<State = unknown> {
  readonly name: string;
  readonly title: string;
  readonly unit: Unit;
  /** One timed round per server and no warm-up (the multi-GiB stream). */
  readonly single?: boolean;
  /**
   * Runs against this server in the peer's place, started for the scenario and stopped after
   * it (a Strata configured otherwise, to compare Strata with itself); needs Strata to run.
   */
  peer?(): Promise<Target>;
  setup(target: Target, env: Env): Promise<State>;
  round(target: Target, state: State, env: Env): Promise<RoundResult>;
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / (1024 * 1024) / (ms / 1000);
}

export function perSecond(count: number, ms: number): number {
  return count / (ms / 1000);
}

/**
 * Runs `total` calls of `fn(i)` with at most `concurrency` in flight; returns the wall time and
 * each call's latency in ms.
 */
export async function runPool(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ elapsedMs: number; latenciesMs: number[] }> {
  const latenciesMs = new Array<number>(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < total; i = next++) {
      const start = performance.now();
      await fn(i);
      latenciesMs[i] = performance.now() - start;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { elapsedMs: performance.now() - start, latenciesMs };
}
