// Credentials stored by `strata login`, per server URL, in a file only the user can read:
// $STRATA_CONFIG_DIR/credentials.json, else $XDG_CONFIG_HOME/strata/…, else ~/.config/strata/…
// (file 0600, a directory it creates 0700). STRATA_USERNAME and STRATA_PASSWORD, when both
// set, take precedence over the file.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CliError } from "./errors.ts";

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type Store = Record<string, Credentials>;

/** Where credentials are kept, or undefined when the environment names no place. */
function locate(env: Env): string | undefined {
  if (env.STRATA_CONFIG_DIR) return join(env.STRATA_CONFIG_DIR, "credentials.json");
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "strata", "credentials.json");
  if (env.HOME) return join(env.HOME, ".config", "strata", "credentials.json");
  return undefined;
}

export function credentialsFile(env: Env): string {
  const file = locate(env);
  if (file === undefined) {
    throw new CliError("Cannot find where to keep credentials: set STRATA_CONFIG_DIR or HOME");
  }
  return file;
}

const isCredentials = (value: unknown): value is Credentials =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Credentials).username === "string" &&
  typeof (value as Credentials).password === "string";

async function readStore(file: string): Promise<Store> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`Cannot read credentials file "${file}": ${(error as Error).message}`, 1, {
      cause: error,
    });
  }
  let store: unknown;
  try {
    store = JSON.parse(text);
  } catch (error) {
    throw new CliError(`Credentials file "${file}" is not valid JSON; remove it and log in again`, 1, {
      cause: error,
    });
  }
  if (
    typeof store !== "object" ||
    store === null ||
    Array.isArray(store) ||
    !Object.values(store).every(isCredentials)
  ) {
    throw new CliError(
      `Credentials file "${file}" is not a map of server URL to credentials; remove it and log in again`,
    );
  }
  return store as Store;
}

async function writeStore(file: string, store: Store): Promise<void> {
  const dir = dirname(file);
  // A directory strata creates is the user's alone; one the user named is left as it is.
  if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

export async function loadCredentials(env: Env, server: string): Promise<Credentials | undefined> {
  if (env.STRATA_USERNAME && env.STRATA_PASSWORD)
    return { username: env.STRATA_USERNAME, password: env.STRATA_PASSWORD };
  const file = locate(env);
  return file === undefined ? undefined : (await readStore(file))[server];
}

export async function saveCredentials(env: Env, server: string, credentials: Credentials): Promise<string> {
  const file = credentialsFile(env);
  const store = await readStore(file);
  store[server] = { username: credentials.username, password: credentials.password };
  await writeStore(file, store);
  return file;
}

export async function removeCredentials(env: Env, server: string): Promise<boolean> {
  const file = credentialsFile(env);
  const store = await readStore(file);
  if (store[server] === undefined) return false;
  delete store[server];
  await writeStore(file, store);
  return true;
}
