// Where `strata key`, `sign` and `verify` find keys and passphrases. Keys live in
// $STRATA_CONFIG_DIR/keys (else $XDG_CONFIG_HOME/strata/keys, else ~/.config/strata/keys), beside
// the credentials `strata login` keeps. A passphrase comes from STRATA_KEY_PASSWORD, else
// COSIGN_PASSWORD (as cosign reads it), else the first line of standard input — asked only when
// a key is encrypted. `--key` names a key of that folder, else a file.
import { join } from "node:path";
import type { Keyring, PassphraseSource, SigningKey, TrustedKey } from "../sign/index.ts";
import { CliError, usageError } from "./errors.ts";
import type { CliIo } from "./io.ts";
import { readAll } from "./read-stdin.ts";

type Env = Readonly<Record<string, string | undefined>>;

export function keysDir(env: Env): string {
  if (env.STRATA_CONFIG_DIR) return join(env.STRATA_CONFIG_DIR, "keys");
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "strata", "keys");
  if (env.HOME) return join(env.HOME, ".config", "strata", "keys");
  throw new CliError("Cannot find where keys are kept: set STRATA_CONFIG_DIR or HOME");
}

export async function keyring(env: Env): Promise<Keyring> {
  const { createKeyring } = await import("../sign/index.ts");
  return createKeyring(keysDir(env));
}

/** The passphrase source of a command: the environment, else standard input (read once). */
export function passphraseSource(io: CliIo): PassphraseSource {
  let read: Promise<string> | undefined;
  return async () => {
    const fromEnv = io.env.STRATA_KEY_PASSWORD ?? io.env.COSIGN_PASSWORD;
    if (fromEnv !== undefined) return fromEnv;
    read ??= readAll(io.stdin).then((text) => {
      const line = text.split(/\r?\n/)[0] ?? "";
      if (text.length === 0)
        throw usageError(
          "The key needs a passphrase: set STRATA_KEY_PASSWORD (or COSIGN_PASSWORD) or give it on standard input",
        );
      return line;
    });
    return read;
  };
}

/** Turns the sign domain's errors about user input into usage errors (exit 2). */
export async function withSignErrors<T>(run: () => Promise<T>): Promise<T> {
  const { SignError } = await import("../sign/index.ts");
  try {
    return await run();
  } catch (error) {
    if (error instanceof SignError && error.code === "ARGUMENT_INVALID") throw usageError(error.message);
    throw error;
  }
}

/** Whether `text` names a key kept in the keys folder. */
async function isKeptKey(env: Env, text: string): Promise<boolean> {
  const { checkKeyName } = await import("../sign/index.ts");
  try {
    checkKeyName(text);
  } catch {
    return false;
  }
  return (await keyring(env))
    .get(text)
    .then(() => true)
    .catch(() => false);
}

/** The signing key `--key` names: a kept key, else a private key file. */
export async function signingKeyOf(io: CliIo, text: string): Promise<SigningKey> {
  const { signingKeyFromFile } = await import("../sign/index.ts");
  const passphrase = passphraseSource(io);
  if (await isKeptKey(io.env, text)) return (await keyring(io.env)).signingKey(text, passphrase);
  if (!text.includes("/") && !text.includes("."))
    throw usageError(
      `No key "${text}" in ${keysDir(io.env)} (strata key list shows them; a file path works too)`,
    );
  return signingKeyFromFile(text, passphrase);
}

/** A public key `--key` names: a kept key, else a public key PEM file. */
export async function trustedKeyOf(env: Env, text: string): Promise<TrustedKey> {
  const { trustedKeyFromFile } = await import("../sign/index.ts");
  if (await isKeptKey(env, text)) return (await keyring(env)).trustedKey(text);
  if (!text.includes("/") && !text.includes("."))
    throw usageError(
      `No key "${text}" in ${keysDir(env)} (strata key list shows them; a file path works too)`,
    );
  return trustedKeyFromFile(text);
}
