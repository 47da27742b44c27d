// A garbage collector in a process of its own, as `strata gc --grace 0s` run in a loop would be:
// `node --import tsx gc-loop.ts <data dir> <database url>` collects with no grace window until
// its standard input ends; it prints "running" once its first collection is done, and at the
// end a line {"runs":…,"removed":…}.
import { collectGarbage, createFsBlobStore, createMetadataStore } from "../../src/store/index.ts";

const [root, database] = process.argv.slice(2);
if (root === undefined || database === undefined) throw new Error("Usage: gc-loop.ts DATA DATABASE");
let stop = false;
process.stdin.on("end", () => {
  stop = true;
});
process.stdin.resume();
const blobs = createFsBlobStore({ root });
const meta = await createMetadataStore(database);
let runs = 0;
let removed = 0;
try {
  while (!stop) {
    removed += (await collectGarbage(blobs, meta, { graceMs: 0 })).removed.length;
    runs++;
    if (runs === 1) process.stdout.write("running\n");
    // Let the end of standard input be noticed between runs.
    await new Promise((resolve) => setImmediate(resolve));
  }
} finally {
  await meta.close();
}
process.stdout.write(`${JSON.stringify({ runs, removed })}\n`);
