// Blob pushes: many 1 MiB monolithic uploads, one large monolithic upload, and one large upload
// in PATCH chunks. Every push carries content no server has seen, so nothing is deduplicated;
// content is stamped and hashed before the clock starts.
import { MiB, type Blob } from "../payload.ts";
import { pushChunked, pushMonolithic } from "../registry-api.ts";
import { mibPerSecond, runPool, timed, type Scenario } from "../scenario.ts";

const REPO = "bench/push";

export const pushSmall: Scenario<void> = {
  name: "push-1m",
  title: "monolithic push (POST + PUT), 1 MiB blobs, sequential",
  unit: "MiB/s",
  async setup() {},
  async round(target, _state, env) {
    const count = env.sizes.smallPushes;
    if (count * MiB > env.pool.size) throw new Error(`Pool too small for ${count} distinct 1 MiB blobs`);
    const blobs: Blob[] = Array.from({ length: count }, (_, i) => env.pool.unique(MiB, i * MiB));
    const { elapsedMs, latenciesMs } = await runPool(count, 1, (i) => {
      const blob = blobs[i] as Blob;
      return pushMonolithic(target.client, REPO, blob.digest, blob.bytes);
    });
    return { value: mibPerSecond(count * MiB, elapsedMs), latenciesMs };
  },
};

export const pushLarge: Scenario<void> = {
  name: "push-100m",
  title: "monolithic push (POST + PUT) of one 100 MiB blob",
  unit: "MiB/s",
  async setup() {},
  async round(target, _state, env) {
    const blob = env.pool.unique(env.sizes.large);
    const ms = await timed(() => pushMonolithic(target.client, REPO, blob.digest, blob.bytes));
    return { value: mibPerSecond(blob.bytes.length, ms) };
  },
};

export const pushChunks: Scenario<void> = {
  name: "push-chunked-100m",
  title: "chunked push (POST, PATCH × 10 MiB, PUT) of one 100 MiB blob",
  unit: "MiB/s",
  async setup() {},
  async round(target, _state, env) {
    const blob = env.pool.unique(env.sizes.large);
    const step = env.sizes.chunk;
    const chunks: Buffer[] = [];
    for (let at = 0; at < blob.bytes.length; at += step) chunks.push(blob.bytes.subarray(at, at + step));
    const ms = await timed(() => pushChunked(target.client, REPO, blob.digest, chunks));
    return { value: mibPerSecond(blob.bytes.length, ms) };
  },
};
