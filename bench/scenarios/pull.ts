// Blob pulls: one large GET, many 1 MiB GETs at concurrency 8, and a pull storm of distinct
// 10 MiB blobs at concurrency 16. Bodies are counted and dropped; blobs are pushed during setup.
import { MiB } from "../payload.ts";
import { getBlob, pushMonolithic } from "../registry-api.ts";
import { mibPerSecond, runPool, timed, type Env, type Scenario } from "../scenario.ts";
import type { Target } from "../servers.ts";

const REPO = "bench/pull";

/** Pushes `count` distinct blobs of `size` bytes and returns their digests. */
async function seed(target: Target, env: Env, count: number, size: number): Promise<string[]> {
  const slots = Math.max(1, Math.floor(env.pool.size / size));
  const digests: string[] = [];
  for (let i = 0; i < count; i++) {
    const blob = env.pool.unique(size, (i % slots) * size);
    await pushMonolithic(target.client, REPO, blob.digest, blob.bytes);
    digests.push(blob.digest);
  }
  return digests;
}

function pick(digests: readonly string[], i: number): string {
  return digests[i % digests.length] ?? "";
}

/** Sequential GETs of the large blob per round: one alone lasts ~0.2 s, too short to time well. */
const LARGE_GETS = 3;

export const getLarge: Scenario<string> = {
  name: "get-100m",
  title: `GET of one 100 MiB blob, ${LARGE_GETS} times in a row`,
  unit: "MiB/s",
  async setup(target, env) {
    return pick(await seed(target, env, 1, env.sizes.large), 0);
  },
  async round(target, digest, env) {
    let bytes = 0;
    const ms = await timed(async () => {
      for (let i = 0; i < LARGE_GETS; i++) bytes += await getBlob(target.client, REPO, digest);
    });
    if (bytes !== LARGE_GETS * env.sizes.large) {
      throw new Error(`GETs returned ${bytes} bytes, expected ${LARGE_GETS * env.sizes.large}`);
    }
    return { value: mibPerSecond(bytes, ms) };
  },
};

export const pullSmall: Scenario<string[]> = {
  name: "pull-1m-c8",
  title: "GETs of 1 MiB blobs (8 distinct) at concurrency 8",
  unit: "MiB/s",
  setup: (target, env) => seed(target, env, 8, MiB),
  async round(target, digests, env) {
    let bytes = 0;
    const { elapsedMs, latenciesMs } = await runPool(env.sizes.smallPulls, 8, async (i) => {
      const got = await getBlob(target.client, REPO, pick(digests, i));
      bytes += got; // not `bytes += await …`, which would read `bytes` before awaiting
    });
    return { value: mibPerSecond(bytes, elapsedMs), latenciesMs };
  },
};

export const pullStorm: Scenario<string[]> = {
  name: "pull-storm",
  title: "pull storm: one GET of each of 64 distinct 10 MiB blobs at concurrency 16",
  unit: "MiB/s",
  setup: (target, env) => seed(target, env, env.sizes.stormBlobs, env.sizes.stormBlob),
  async round(target, digests) {
    let bytes = 0;
    const { elapsedMs, latenciesMs } = await runPool(digests.length, 16, async (i) => {
      const got = await getBlob(target.client, REPO, pick(digests, i));
      bytes += got;
    });
    return { value: mibPerSecond(bytes, elapsedMs), latenciesMs };
  },
};
