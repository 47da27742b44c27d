// Opens the metadata database named by a URL: `sqlite:<path>` (better-sqlite3, embedded) or
// `postgres://…` / `postgresql://…` (a pg Pool, for several nodes sharing one database). pg is
// loaded when a PostgreSQL database is first used, so a server on SQLite never loads it.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type { Pool } from "pg";
import type { Dialect } from "./schema.ts";

export interface Connection<DB> {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** Gives the connection back; the database closes when its last user releases it. */
  release(): Promise<void>;
}

/**
 * SQLite files opened in this process, shared: better-sqlite3 is synchronous, so a second
 * connection waiting for the first one's write lock would block the event loop that must finish
 * the first one's transaction. One Kysely instance per file serialises every domain's queries
 * and transactions through one connection instead.
 */
const sqliteOpen = new Map<string, { db: Kysely<unknown>; users: number }>();

/** OID of PostgreSQL's int8 (bigint) type. */
const INT8 = 20;

/** Opens a database URL with the row types DB; each domain keeps its own tables in it. */
export function connect<DB>(url: string): Connection<DB> {
  if (url.startsWith("sqlite:")) {
    const path = sqlitePath(url);
    const key = path === ":memory:" ? path : resolve(path);
    let shared = sqliteOpen.get(key);
    if (shared === undefined) {
      shared = { db: openSqlite<unknown>(path), users: 0 };
      sqliteOpen.set(key, shared);
    }
    shared.users++;
    const entry = shared;
    let released = false;
    return {
      db: entry.db as Kysely<DB>,
      dialect: "sqlite",
      async release() {
        if (released) return;
        released = true;
        if (--entry.users > 0) return;
        sqliteOpen.delete(key);
        await entry.db.destroy();
      },
    };
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const db = openPostgres<DB>(url);
    return { db, dialect: "postgres", release: () => db.destroy() };
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? url.slice(0, 12);
  throw new Error(`Unsupported database URL ${JSON.stringify(scheme)}: expected sqlite:PATH or postgres://…`);
}

/** `sqlite:data/meta.db`, `sqlite:/abs/meta.db`, `sqlite:///abs/meta.db` or `sqlite::memory:`. */
function sqlitePath(url: string): string {
  const rest = url.slice("sqlite:".length);
  const path = rest.startsWith("//") ? rest.slice(2) : rest;
  if (path === "") throw new Error('Unsupported database URL "sqlite:": the path is missing');
  return path;
}

function openSqlite<DB>(path: string): Kysely<DB> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  database.pragma("journal_mode = WAL");
  // Another process (a CLI command next to the server) may hold the write lock briefly.
  database.pragma("busy_timeout = 5000");
  // FULL: a push the client saw succeed survives a power loss, as its blobs (fsynced) do. In
  // WAL mode this costs one WAL fsync per write transaction, small next to the blob fsyncs of
  // the same push; NORMAL could lose the last transactions (tags) on power loss.
  database.pragma("synchronous = FULL");
  return new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
}

function openPostgres<DB>(url: string): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: () => createPool(url) }) });
}

async function createPool(url: string): Promise<Pool> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    // bigint columns hold epoch milliseconds and byte counts, all below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8 && format !== "binary"
          ? Number
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection is dropped by the pool; the next query reconnects.
  pool.on("error", () => undefined);
  return pool;
}
