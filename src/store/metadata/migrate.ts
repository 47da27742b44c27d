// Runs pending migrations when a store opens. A store whose schema is current costs one query:
// the names of the applied migrations are read and compared with the set, and the migrator runs
// only when one is missing. On PostgreSQL several processes may open the same database at once:
// a session advisory lock makes them migrate one after the other (the later ones find nothing to
// do). SQLite is one node; its write lock serializes migrations, and a set's pending migrations
// are applied in one transaction (SQLite's DDL is transactional), so a crash leaves the schema
// as it was and the set costs one commit (one fsync) instead of one per statement.
import { type Kysely, type Migration, Migrator, sql } from "kysely";
import { migrations } from "./migrations.ts";
import type { Database, Dialect } from "./schema.ts";

/** Advisory lock key of Strata's migrations ("strata" in ASCII). */
const LOCK_KEY = 0x737472617461;

/** A set of migrations with its own bookkeeping tables, so domains migrate independently. */
export interface MigrationSet {
  /** Name used in errors, e.g. "metadata" or "gallery". */
  readonly name: string;
  readonly table: string;
  readonly migrations: (dialect: Dialect) => Record<string, Migration>;
}

const METADATA: MigrationSet = { name: "metadata", table: "strata_migration", migrations };

export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  await migrateSet(db, dialect, METADATA);
}

/** Applies a migration set's pending migrations; on PostgreSQL under the shared advisory lock. */
export async function migrateSet<DB>(db: Kysely<DB>, dialect: Dialect, set: MigrationSet): Promise<void> {
  if (await isCurrent(db, dialect, set)) return;
  await db.connection().execute(async (connection) => {
    if (dialect === "sqlite") {
      await sql`begin immediate`.execute(connection);
      try {
        await run(connection, dialect, set);
      } catch (error) {
        await sql`rollback`.execute(connection);
        throw error;
      }
      await sql`commit`.execute(connection);
      return;
    }
    await sql`select pg_advisory_lock(${LOCK_KEY})`.execute(connection);
    try {
      await run(connection, dialect, set);
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(connection);
    }
  });
}

/** True when every migration of the set, and no other, is recorded as applied. */
async function isCurrent<DB>(db: Kysely<DB>, dialect: Dialect, set: MigrationSet): Promise<boolean> {
  const names = Object.keys(set.migrations(dialect));
  let applied: string[];
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.table(set.table)}`.execute(db);
    applied = rows.map((r) => r.name);
  } catch {
    // No bookkeeping table yet (a new database): the migrator creates it.
    return false;
  }
  return applied.length === names.length && names.every((name) => applied.includes(name));
}

async function run<DB>(db: Kysely<DB>, dialect: Dialect, set: MigrationSet): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(set.migrations(dialect)) },
    migrationTableName: set.table,
    migrationLockTableName: `${set.table}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`Cannot migrate the ${set.name} database: migration "${failed}" failed`, {
      cause: error,
    });
  }
}
