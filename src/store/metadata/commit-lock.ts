// The commit lock: a transaction that holds, until it ends, a lock on each digest it names.
// Every write that makes a digest referenced (a claim, a link, a manifest) and the collector's
// check-then-delete of a digest run in one, so of two that name a digest the second starts only
// after the first committed, and reads everything the first wrote.
//
// PostgreSQL: a transaction-scoped advisory lock per digest (two-key form, in a namespace of its
// own, so it cannot meet the one-key migration lock), taken in key order so two transactions
// never wait for each other in a cycle. Statements after the lock run on a fresh snapshot
// (READ COMMITTED), so they see what the previous holder committed.
// SQLite: `BEGIN IMMEDIATE`, which takes the database's single write lock up front (across
// processes; within a process every query already goes through one connection). A deferred
// transaction would read an older snapshot and could not be trusted to see a concurrent commit.
import { createHash } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Database, Dialect } from "./schema.ts";

/** Advisory lock namespace of digests ("stra" in ASCII). */
const NAMESPACE = 0x73747261;

export async function lockedTransaction<T>(
  db: Kysely<Database>,
  dialect: Dialect,
  digests: Iterable<string>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === "sqlite") {
    return db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw error;
      }
    });
  }
  const keys = lockKeys(digests);
  return db.transaction().execute(async (trx) => {
    for (const key of keys) await sql`select pg_advisory_xact_lock(${NAMESPACE}, ${key})`.execute(trx);
    return work(trx);
  });
}

/** Distinct 32-bit lock keys of the digests, in ascending order. */
export function lockKeys(digests: Iterable<string>): number[] {
  const keys = new Set<number>();
  for (const digest of digests) keys.add(createHash("sha256").update(digest).digest().readInt32BE(0));
  return [...keys].sort((a, b) => a - b);
}
