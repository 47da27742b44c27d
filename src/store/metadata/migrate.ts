// Runs pending migrations when a store opens. On PostgreSQL several processes may open the
// same database at once: a session advisory lock makes them migrate one after the other (the
// later ones find nothing to do). SQLite is one node; its write lock serializes migrations.
import { type Kysely, Migrator, sql } from "kysely";
import { migrations } from "./migrations.ts";
import type { Database, Dialect } from "./schema.ts";

/** Advisory lock key of Strata's migrations ("strata" in ASCII). */
const LOCK_KEY = 0x737472617461;

export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect === "sqlite") {
    await run(db, dialect);
    return;
  }
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${LOCK_KEY})`.execute(connection);
    try {
      await run(connection, dialect);
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(connection);
    }
  });
}

async function run(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations(dialect)) },
    migrationTableName: "strata_migration",
    migrationLockTableName: "strata_migration_lock",
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`Cannot migrate the metadata database: migration "${failed}" failed`, { cause: error });
  }
}
