// Opens the metadata database named by a URL: `sqlite:<path>` (better-sqlite3, embedded) or
// `postgres://…` / `postgresql://…` (a pg Pool, for several nodes sharing one database).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Database, Dialect } from "./schema.ts";

export interface Connection {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
}

/** OID of PostgreSQL's int8 (bigint) type. */
const INT8 = 20;

export function connect(url: string): Connection {
  if (url.startsWith("sqlite:")) return { db: openSqlite(sqlitePath(url)), dialect: "sqlite" };
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    return { db: openPostgres(url), dialect: "postgres" };
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

function openSqlite(path: string): Kysely<Database> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  database.pragma("journal_mode = WAL");
  // Another process (a CLI command next to the server) may hold the write lock briefly.
  database.pragma("busy_timeout = 5000");
  // FULL: a push the client saw succeed survives a power loss, as its blobs (fsynced) do. In
  // WAL mode this costs one WAL fsync per write transaction, small next to the blob fsyncs of
  // the same push; NORMAL could lose the last transactions (tags) on power loss.
  database.pragma("synchronous = FULL");
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
}

function openPostgres(url: string): Kysely<Database> {
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
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
