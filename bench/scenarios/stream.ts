// Streaming a multi-GiB blob: one monolithic push whose body is generated on the fly from a
// repeating random 1 MiB block (never held in memory), then one GET of it. One round per
// server; the report shows each server's peak RSS during these two scenarios.
import { blobExists, getBlob, pushStreamed } from "../registry-api.ts";
import { mibPerSecond, timed, type Scenario } from "../scenario.ts";

const REPO = "bench/stream";

export const streamPush: Scenario<void> = {
  name: "stream-4g-push",
  title: "monolithic push of a 4 GiB blob streamed from the client",
  unit: "MiB/s",
  single: true,
  async setup(_target, env) {
    env.streamedBlob();
  },
  async round(target, _state, env) {
    const blob = env.streamedBlob();
    const ms = await timed(() => pushStreamed(target.client, REPO, blob));
    return { value: mibPerSecond(blob.size, ms) };
  },
};

export const streamGet: Scenario<void> = {
  name: "stream-4g-get",
  title: "GET of the 4 GiB blob",
  unit: "MiB/s",
  single: true,
  async setup(target, env) {
    const blob = env.streamedBlob();
    if (!(await blobExists(target.client, REPO, blob.digest))) await pushStreamed(target.client, REPO, blob);
  },
  async round(target, _state, env) {
    const blob = env.streamedBlob();
    let bytes = 0;
    const ms = await timed(async () => (bytes = await getBlob(target.client, REPO, blob.digest)));
    if (bytes !== blob.size) throw new Error(`GET returned ${bytes} bytes, expected ${blob.size}`);
    return { value: mibPerSecond(bytes, ms) };
  },
};
