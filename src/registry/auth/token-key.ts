// The key that signs bearer tokens, persisted at `<data>/auth/token-key` (mode 0600) so that
// every process sharing a data directory signs and verifies with the same key. The first process
// to start creates it: the key is written to a private temporary file and hard-linked into
// place, which fails when another process won the race; everyone then reads the one file.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

const KEY_BYTES = 32;

export function tokenKeyPath(dataDir: string): string {
  return join(dataDir, "auth", "token-key");
}

function parseKey(text: string, path: string): Uint8Array {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, "base64url");
  if (!/^[A-Za-z0-9_-]+$/.test(trimmed) || key.length < KEY_BYTES) {
    throw new Error(
      `Invalid token key "${path}": expected ${KEY_BYTES} or more bytes in base64url; delete the file to generate a new key`,
    );
  }
  return new Uint8Array(key);
}

async function readKey(path: string): Promise<Uint8Array | undefined> {
  try {
    return parseKey(await readFile(path, "utf8"), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Reads the token key of `dataDir`, creating it on first use. */
export async function loadTokenKey(dataDir: string): Promise<Uint8Array> {
  const path = tokenKeyPath(dataDir);
  const existing = await readKey(path);
  if (existing !== undefined) return existing;
  await mkdir(join(dataDir, "auth"), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, `${randomBytes(KEY_BYTES).toString("base64url")}\n`, {
    mode: 0o600,
    flag: "wx",
    flush: true,
  });
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const key = await readKey(path);
  if (key === undefined)
    throw new Error(`Cannot create token key "${path}": the file vanished after creation`);
  return key;
}
