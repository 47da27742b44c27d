// Large galleries (2,000 versions, 100,000 audit entries) and search, on SQLite and on a
// PostgreSQL started by the test.
import { after, describe } from "node:test";
import { startPostgres, type Postgres } from "../../helpers/postgres.ts";
import { useHarness } from "./harness.ts";
import { scaleSuite } from "./scale-suite.ts";

describe("large galleries on SQLite", () => {
  scaleSuite(useHarness(async () => undefined));
});

describe("large galleries on PostgreSQL", () => {
  let pg: Postgres | undefined;
  const h = useHarness(async () => {
    pg = await startPostgres();
    return pg.url;
  });
  after(async () => {
    await pg?.stop();
  });
  scaleSuite(h);
});
