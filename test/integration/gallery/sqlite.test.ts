// The gallery suites on the embedded default: SQLite.
import { describe } from "node:test";
import { badInputSuite } from "./bad-input-suite.ts";
import { chunkedDiskSuite } from "./chunked-disk-suite.ts";
import { concurrencySuite } from "./concurrency-suite.ts";
import { useHarness } from "./harness.ts";
import { lifecycleSuite } from "./lifecycle-suite.ts";
import { retentionSuite } from "./retention-suite.ts";

describe("gallery on SQLite", () => {
  const h = useHarness(async () => undefined);
  lifecycleSuite(h);
  badInputSuite(h);
  concurrencySuite(h);
  chunkedDiskSuite(h);
  retentionSuite(h);
});
