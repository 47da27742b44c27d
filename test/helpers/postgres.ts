// A throwaway PostgreSQL server for tests: initdb into a temporary directory (as the postgres
// user when running as root, since initdb refuses root), pg_ctl start on a free loopback port
// with fsync off, one database created for the caller, and more on demand.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.ts";

const run = promisify(execFile);
const INSTALL_ROOT = "/usr/lib/postgresql";

export interface Postgres {
  /** URL of a database created for the caller. */
  readonly url: string;
  /**
   * Creates a fresh, empty database on the same server and returns its URL; with icuLocale its
   * default collation is that ICU locale (e.g. "en-US", where "a" < "B" < "b").
   */
  newDatabase(options?: { icuLocale?: string }): Promise<string>;
  /** Drops a database made by newDatabase (fails while sessions are still connected to it). */
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<Postgres> {
  const bin = serverBin();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await postgresUser() : undefined;
  const base = await mkdtemp(join(tmpdir(), "strata-pg-"));
  const data = join(base, "data");
  await mkdir(data);
  if (owner !== undefined) {
    await chown(base, owner.uid, owner.gid);
    await chown(data, owner.uid, owner.gid);
  }
  const exec = (tool: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]) : run(join(bin, tool), args);

  const port = await freePort();
  const log = join(base, "server.log");
  try {
    await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    const serverOptions = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await exec("pg_ctl", ["start", "-D", data, "-l", log, "-w", "-t", "60", "-o", serverOptions]);
  } catch (error) {
    const serverLog = await readFile(log, "utf8").catch(() => "");
    await exec("pg_ctl", ["stop", "-D", data, "-m", "immediate", "-w"]).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
    throw new Error(
      `Cannot start PostgreSQL from "${bin}"${serverLog === "" ? "" : `: ${serverLog.trim()}`}`,
      {
        cause: error,
      },
    );
  }

  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let counter = 0;
  async function sql(text: string): Promise<void> {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }
  async function newDatabase(options: { icuLocale?: string } = {}): Promise<string> {
    const name = `strata_${++counter}`;
    const { icuLocale } = options;
    if (icuLocale === undefined) {
      await sql(`create database ${name}`);
    } else {
      if (!/^[A-Za-z0-9-]+$/.test(icuLocale))
        throw new Error(`Invalid ICU locale ${JSON.stringify(icuLocale)}`);
      await sql(
        `create database ${name} template template0 locale_provider icu icu_locale '${icuLocale}' locale 'C.UTF-8'`,
      );
    }
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  }

  const url = await newDatabase();
  return {
    url,
    newDatabase,
    async dropDatabase(database: string): Promise<void> {
      const name = new URL(database).pathname.slice(1);
      if (!/^strata_\d+$/.test(name)) throw new Error(`Not a test database: ${JSON.stringify(name)}`);
      await sql(`drop database ${name}`);
    },
    async stop(): Promise<void> {
      try {
        await exec("pg_ctl", ["stop", "-D", data, "-m", "fast", "-w"]);
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  };
}

/** The bin directory of the highest PostgreSQL version installed. */
function serverBin(): string {
  const versions = existsSync(INSTALL_ROOT)
    ? readdirSync(INSTALL_ROOT)
        .filter((name) => /^\d+(\.\d+)?$/.test(name) && existsSync(join(INSTALL_ROOT, name, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(`PostgreSQL is not installed: no server under "${INSTALL_ROOT}" (install postgresql)`);
  }
  return join(INSTALL_ROOT, newest, "bin");
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await run("id", [flag, "postgres"])).stdout.trim());
  try {
    return { uid: await id("-u"), gid: await id("-g") };
  } catch (error) {
    throw new Error(
      `Cannot run PostgreSQL as root and there is no "postgres" user (running as ${userInfo().username})`,
      {
        cause: error,
      },
    );
  }
}
