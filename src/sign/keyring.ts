// Keys kept on disk, one name each, in a folder the caller picks (the CLI: $STRATA_CONFIG_DIR/
// keys): `NAME.key` — the private key in cosign's encrypted form (mode 0600) —, `NAME.pub` — the
// SPKI public key PEM, what verifiers are given — and `NAME.json` — what Strata records about it:
// `{"keyId", "created", "notAfter"?}`. A not-after date stops the key from signing after it
// (rotation); signatures made before it still verify, for whoever is given the date with the
// key: the JSON beside a `.pub` file carries it to `verify`.
import { chmod, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { SignError } from "./errors.ts";
import {
  cosignPrivateKeyPem,
  generateSigningKey,
  publicKeyPem,
  readPrivateKey,
  readPublicKey,
  type PassphraseSource,
  type SigningKey,
  type TrustedKey,
} from "./keys.ts";

export interface KeyRecord {
  readonly name: string;
  readonly keyId: string;
  readonly created: string;
  readonly notAfter?: string;
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
}

interface KeyMetadata {
  readonly keyId: string;
  readonly created: string;
  readonly notAfter?: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkKeyName(name: string): string {
  if (!NAME_RE.test(name) || name.endsWith(".key") || name.endsWith(".pub") || name.endsWith(".json"))
    throw new SignError(
      "ARGUMENT_INVALID",
      `Invalid key name "${name}": use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit)`,
    );
  return name;
}

/**
 * A not-after date: `YYYY-MM-DD` (the end of that day, UTC) or an RFC 3339 date and time with a
 * zone (`2027-01-31T12:00:00Z`).
 */
export function parseNotAfter(text: string): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const full = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text);
  const date = day !== null ? new Date(`${text}T23:59:59.999Z`) : full ? new Date(text) : undefined;
  if (
    date === undefined ||
    Number.isNaN(date.getTime()) ||
    (day !== null && date.toISOString().slice(0, 10) !== text)
  )
    throw new SignError(
      "ARGUMENT_INVALID",
      `Invalid date "${text}": expected YYYY-MM-DD (the end of that day, UTC) or a date and time such as 2027-01-31T12:00:00Z`,
    );
  return date;
}

function parseMetadata(text: string, file: string): KeyMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SignError("KEY_INVALID", `Key metadata "${file}" is not JSON`, { cause: error });
  }
  const m = json as Partial<Record<keyof KeyMetadata, unknown>>;
  if (
    typeof json !== "object" ||
    json === null ||
    typeof m.keyId !== "string" ||
    typeof m.created !== "string" ||
    (m.notAfter !== undefined && (typeof m.notAfter !== "string" || Number.isNaN(Date.parse(m.notAfter))))
  )
    throw new SignError(
      "KEY_INVALID",
      `Key metadata "${file}" lacks keyId and created, or has a bad notAfter`,
    );
  return {
    keyId: m.keyId,
    created: m.created,
    ...(m.notAfter === undefined ? {} : { notAfter: m.notAfter }),
  };
}

/** The metadata beside a key file (`X.json` for `X.pub` or `X.key`), when it is of that key. */
async function metadataBeside(file: string, keyId: string): Promise<KeyMetadata | undefined> {
  const path = join(dirname(file), `${basename(file, extname(file))}.json`);
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const metadata = parseMetadata(text, path);
  return metadata.keyId === keyId ? metadata : undefined;
}

async function readKeyFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new SignError("KEY_NOT_FOUND", `Cannot read ${what} "${file}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** A public key from a PEM file, with the not-after of the metadata beside it, if any. */
export async function trustedKeyFromFile(file: string): Promise<TrustedKey> {
  const key = readPublicKey(await readKeyFile(file, "public key"), {
    what: `public key "${file}"`,
    name: file,
  });
  const metadata = await metadataBeside(file, key.keyId);
  return metadata?.notAfter === undefined ? key : { ...key, notAfter: new Date(metadata.notAfter) };
}

/** A private key from a PEM file, with the not-after of the metadata beside it, if any. */
export async function signingKeyFromFile(file: string, passphrase: PassphraseSource): Promise<SigningKey> {
  const key = await readPrivateKey(await readKeyFile(file, "private key"), passphrase, {
    what: `private key "${file}"`,
  });
  const metadata = await metadataBeside(file, key.keyId);
  return metadata?.notAfter === undefined ? key : { ...key, notAfter: new Date(metadata.notAfter) };
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export interface Keyring {
  readonly dir: string;
  /** Makes a new key `name`; refuses a name in use. */
  generate(name: string, passphrase: string, options?: { notAfter?: Date; now?: Date }): Promise<KeyRecord>;
  /** Keeps a key people bring (any PEM form keys.ts reads), re-encrypted in cosign's form. */
  importKey(
    name: string,
    pem: string,
    passphrase: PassphraseSource,
    newPassphrase: string,
    options?: { notAfter?: Date; now?: Date; what?: string },
  ): Promise<KeyRecord>;
  list(): Promise<KeyRecord[]>;
  get(name: string): Promise<KeyRecord>;
  /** Sets (or moves) a key's not-after date. */
  expire(name: string, notAfter: Date): Promise<KeyRecord>;
  signingKey(name: string, passphrase: PassphraseSource): Promise<SigningKey>;
  trustedKey(name: string): Promise<TrustedKey>;
}

export function createKeyring(dir: string): Keyring {
  const paths = (name: string) => ({
    key: join(dir, `${checkKeyName(name)}.key`),
    pub: join(dir, `${name}.pub`),
    meta: join(dir, `${name}.json`),
  });
  const record = (name: string, m: KeyMetadata): KeyRecord => ({
    name,
    ...m,
    privateKeyFile: paths(name).key,
    publicKeyFile: paths(name).pub,
  });
  async function get(name: string): Promise<KeyRecord> {
    const p = paths(name);
    const text = await readFile(p.meta, "utf8").catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        throw new SignError("KEY_NOT_FOUND", `No key "${name}" in ${dir} (strata key list shows the keys)`);
      throw error;
    });
    return record(name, parseMetadata(text, p.meta));
  }
  async function keep(
    name: string,
    key: SigningKey,
    passphrase: string,
    options: { notAfter?: Date; now?: Date },
  ) {
    if (passphrase.length === 0)
      throw new SignError("KEY_PASSPHRASE", "A passphrase is required to encrypt the private key");
    const p = paths(name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if ((await readdir(dir)).includes(`${name}.json`) || (await readdir(dir)).includes(`${name}.key`))
      throw new SignError("KEY_EXISTS", `A key named "${name}" exists already in ${dir}`);
    const metadata: KeyMetadata = {
      keyId: key.keyId,
      created: (options.now ?? new Date()).toISOString(),
      ...(options.notAfter === undefined ? {} : { notAfter: options.notAfter.toISOString() }),
    };
    await writeAtomic(p.key, await cosignPrivateKeyPem(key, passphrase), 0o600);
    await writeAtomic(p.pub, publicKeyPem(key.publicKey), 0o644);
    // The metadata last: a key is listed only once its files are complete.
    await writeAtomic(p.meta, `${JSON.stringify(metadata, null, 2)}\n`, 0o644);
    return record(name, metadata);
  }
  return {
    dir,
    generate: (name, passphrase, options = {}) => keep(name, generateSigningKey(), passphrase, options),
    async importKey(name, pem, passphrase, newPassphrase, options = {}) {
      checkKeyName(name);
      const key = await readPrivateKey(pem, passphrase, { what: options.what ?? "the imported key" });
      return keep(name, key, newPassphrase, options);
    },
    async list() {
      const names = await readdir(dir).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw error;
      });
      const keys = names
        .filter((n) => n.endsWith(".json") && NAME_RE.test(n.slice(0, -5)))
        .map((n) => n.slice(0, -5));
      return Promise.all(keys.sort().map(get));
    },
    get,
    async expire(name, notAfter) {
      const current = await get(name);
      const metadata: KeyMetadata = {
        keyId: current.keyId,
        created: current.created,
        notAfter: notAfter.toISOString(),
      };
      await writeAtomic(paths(name).meta, `${JSON.stringify(metadata, null, 2)}\n`, 0o644);
      return record(name, metadata);
    },
    async signingKey(name, passphrase) {
      const r = await get(name);
      const key = await readPrivateKey(await readKeyFile(r.privateKeyFile, "private key"), passphrase, {
        what: `key "${name}"`,
      });
      if (key.keyId !== r.keyId)
        throw new SignError(
          "KEY_INVALID",
          `Key "${name}": its private key is not the one its metadata names (${r.keyId})`,
        );
      return r.notAfter === undefined ? key : { ...key, notAfter: new Date(r.notAfter) };
    },
    async trustedKey(name) {
      const r = await get(name);
      const key = readPublicKey(await readKeyFile(r.publicKeyFile, "public key"), {
        what: `key "${name}"`,
        name,
      });
      if (key.keyId !== r.keyId)
        throw new SignError(
          "KEY_INVALID",
          `Key "${name}": its public key is not the one its metadata names (${r.keyId})`,
        );
      return r.notAfter === undefined ? key : { ...key, notAfter: new Date(r.notAfter) };
    },
  };
}
