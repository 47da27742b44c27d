// The same gallery suites on PostgreSQL, started by the test.
import { after, describe } from "node:test";
import { startPostgres, type Postgres } from "../../helpers/postgres.ts";
import { badInputSuite } from "./bad-input-suite.ts";
import { chunkedDiskSuite } from "./chunked-disk-suite.ts";
import { concurrencySuite } from "./concurrency-suite.ts";
import { useHarness } from "./harness.ts";
import { lifecycleSuite } from "./lifecycle-suite.ts";
import { retentionSuite } from "./retention-suite.ts";

describe("gallery on PostgreSQL", () => {
  let pg: Postgres | undefined;
  const h = useHarness(async () => {
    pg = await startPostgres();
    return pg.url;
  });
  after(async () => {
    await pg?.stop();
  });
  lifecycleSuite(h);
  badInputSuite(h);
  concurrencySuite(h);
  chunkedDiskSuite(h);
  retentionSuite(h);
});
