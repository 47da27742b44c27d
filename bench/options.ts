// Command-line options of `npm run bench` and the sizes each mode uses.
import { parseArgs } from "node:util";
import { MiB } from "./payload.ts";
import type { Sizes } from "./scenario.ts";

export interface Options {
  readonly rounds: number;
  readonly only: readonly string[];
  readonly quick: boolean;
  /** Run the multi-GiB streaming scenarios (on by default). */
  readonly stream: boolean;
  /** Distribution on both sides: checks the benchmark itself while Strata cannot run. */
  readonly peerOnly: boolean;
  readonly sizes: Sizes;
}

export const USAGE = `Usage: npm run bench -- [options]
  --rounds N        timed rounds per server and scenario, after one warm-up round, and starts
                    per server in the start-up section (default 5, quick 2)
  --only a,b        run only these scenarios (names as printed in the tables; startup: the
                    start-up section alone)
  --quick           small sizes and few requests: a smoke run of a minute or so
  --no-stream       skip the 4 GiB streaming scenarios
  --peer-only       run Distribution on both sides (also STRATA_BENCH_PEER_ONLY=1)
  --help            show this text`;

const FULL: Sizes = {
  quick: false,
  large: 100 * MiB,
  chunk: 10 * MiB,
  smallPushes: 50,
  smallPulls: 200,
  manifestPuts: 200,
  manifestReads: 5000,
  stormBlobs: 64,
  stormBlob: 10 * MiB,
  tags: 2000,
  tagLists: 200,
  streamMiB: 4096,
};

const QUICK: Sizes = {
  quick: true,
  large: 8 * MiB,
  chunk: 2 * MiB,
  smallPushes: 8,
  smallPulls: 40,
  manifestPuts: 20,
  manifestReads: 400,
  stormBlobs: 16,
  stormBlob: MiB,
  tags: 100,
  tagLists: 20,
  streamMiB: 64,
};

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: "string" },
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      "no-stream": { type: "boolean", default: false },
      "peer-only": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) return "help";
  const quick = values.quick;
  const rounds = values.rounds === undefined ? (quick ? 2 : 5) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`Invalid --rounds "${values.rounds}": expected a positive integer`);
  const only = (values.only ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return {
    rounds,
    only,
    quick,
    stream: !values["no-stream"],
    peerOnly: values["peer-only"] || env.STRATA_BENCH_PEER_ONLY === "1",
    sizes: quick ? QUICK : FULL,
  };
}
