// Signing keys: ECDSA P-256, as cosign makes them. A private key is read from the PEM forms people
// bring — cosign's own (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN PRIVATE KEY`: a PKCS#8
// key sealed by encrypted.ts), PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`) and SEC1
// (`EC PRIVATE KEY`, plain or with OpenSSL's `Proc-Type: 4,ENCRYPTED` header) as openssl writes
// them — and written in cosign's form, so keys move both ways. Public keys are SPKI PEMs.
// A key's id is the SHA-256 of its DER SubjectPublicKeyInfo in hex; the bundle's key hint is the
// same hash in base64, as cosign writes it.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { decryptFromCosign, encryptForCosign } from "./encrypted.ts";
import { SignError } from "./errors.ts";

export const SIGSTORE_KEY_PEM = "ENCRYPTED SIGSTORE PRIVATE KEY";
export const COSIGN_KEY_PEM = "ENCRYPTED COSIGN PRIVATE KEY";

/** A private key able to sign, with its public half and id. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** sha256 of the DER SPKI, hex. */
  readonly keyId: string;
  /** After this instant the key signs nothing (rotation); undefined: no end. */
  readonly notAfter?: Date;
}

/** A public key a verifier trusts. */
export interface TrustedKey {
  readonly publicKey: KeyObject;
  readonly keyId: string;
  /** How the user named it (a key name or a file), for reports. */
  readonly name?: string;
  /** Signatures made after this instant do not verify. */
  readonly notAfter?: Date;
}

/** The passphrase, asked only when the key is encrypted. */
export type PassphraseSource = () => Promise<string>;

const spki = (publicKey: KeyObject): Buffer => publicKey.export({ type: "spki", format: "der" });

/** A public key's id: SHA-256 of its DER SubjectPublicKeyInfo, hex. */
export const keyIdOf = (publicKey: KeyObject): string =>
  createHash("sha256").update(spki(publicKey)).digest("hex");

/** The key hint a Sigstore bundle carries (cosign's): SHA-256 of the DER SPKI, base64. */
export const keyHintOf = (publicKey: KeyObject): string =>
  createHash("sha256").update(spki(publicKey)).digest("base64");

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: "spki", format: "pem" }).toString();
}

function requireP256(key: KeyObject, what: string): void {
  const type = key.asymmetricKeyType;
  if (type !== "ec")
    throw new SignError(
      "KEY_INVALID",
      `${what} is ${type ?? "an unknown"} key: only ECDSA P-256 keys are supported`,
    );
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== "prime256v1")
    throw new SignError(
      "KEY_INVALID",
      `${what} is on curve ${curve ?? "unknown"}: only ECDSA P-256 (prime256v1) keys are supported`,
    );
}

function signingKey(privateKey: KeyObject, notAfter?: Date): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    ...(notAfter === undefined ? {} : { notAfter }),
  };
}

/** A new ECDSA P-256 key. */
export function generateSigningKey(options: { notAfter?: Date } = {}): SigningKey {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return signingKey(privateKey, options.notAfter);
}

interface PemBlock {
  readonly type: string;
  readonly headers: string;
  readonly body: Buffer;
  readonly text: string;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_RE)].map((m) => {
    const inner = m[2] ?? "";
    const split = inner.search(/\r?\n\r?\n/);
    const hasHeaders = /^[A-Za-z-]+:/.test(inner) && split !== -1;
    const base64 = hasHeaders ? inner.slice(split) : inner;
    return {
      type: m[1] ?? "",
      headers: hasHeaders ? inner.slice(0, split) : "",
      body: Buffer.from(base64.replace(/\s+/g, ""), "base64"),
      text: m[0],
    };
  });
}

const PRIVATE_TYPES = [
  SIGSTORE_KEY_PEM,
  COSIGN_KEY_PEM,
  "PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY",
  "EC PRIVATE KEY",
];

function openSslError(error: unknown, what: string): SignError {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  if (e.code === "ERR_MISSING_PASSPHRASE")
    return new SignError("KEY_PASSPHRASE", `${what} is encrypted and no passphrase was given`, {
      cause: error,
    });
  if (/bad decrypt|decrypt|unable to load|maybe wrong password/i.test(message))
    return new SignError("KEY_PASSPHRASE", `Cannot decrypt ${what}: wrong passphrase`, { cause: error });
  return new SignError("KEY_INVALID", `Cannot read ${what}: ${message}`, { cause: error });
}

/** cosign writes PKCS#8 inside its envelope; older tools sealed a SEC1 key, taken too. */
function derPrivateKey(der: Buffer, what: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch (error) {
    try {
      return createPrivateKey({ key: der, format: "der", type: "sec1" });
    } catch {
      throw new SignError(
        "KEY_INVALID",
        `Cannot read ${what}: the decrypted key is neither PKCS#8 nor SEC1`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * Reads a P-256 private key from PEM text in any of the forms above; `passphrase` is asked only
 * when the key is encrypted. `what` names the key in messages (e.g. its file).
 */
export async function readPrivateKey(
  pem: string,
  passphrase: PassphraseSource,
  options: { what?: string; notAfter?: Date } = {},
): Promise<SigningKey> {
  const what = options.what ?? "the private key";
  const block = pemBlocks(pem).find((b) => PRIVATE_TYPES.includes(b.type));
  if (block === undefined) {
    const found = pemBlocks(pem).map((b) => b.type);
    throw new SignError(
      "KEY_INVALID",
      found.length === 0
        ? `Cannot read ${what}: no PEM block in it`
        : `Cannot read ${what}: no private key in it (found ${found.map((t) => `"${t}"`).join(", ")})`,
    );
  }
  let key: KeyObject;
  if (block.type === SIGSTORE_KEY_PEM || block.type === COSIGN_KEY_PEM) {
    const der = await decryptFromCosign(block.body, await passphrase()).catch((error: unknown) => {
      if (error instanceof SignError)
        throw new SignError(error.code, `${what}: ${error.message}`, { cause: error });
      throw error;
    });
    key = derPrivateKey(der, what);
  } else {
    const encrypted =
      block.type === "ENCRYPTED PRIVATE KEY" || /Proc-Type:\s*4,ENCRYPTED/.test(block.headers);
    try {
      key = createPrivateKey(
        encrypted
          ? { key: block.text, format: "pem", passphrase: await passphrase() }
          : { key: block.text, format: "pem" },
      );
    } catch (error) {
      throw openSslError(error, what);
    }
  }
  requireP256(key, what);
  return signingKey(key, options.notAfter);
}

/** Reads an SPKI public key PEM (`PUBLIC KEY`), P-256 only. */
export function readPublicKey(
  pem: string,
  options: { what?: string; name?: string; notAfter?: Date } = {},
): TrustedKey {
  const what = options.what ?? "the public key";
  const block = pemBlocks(pem).find((b) => b.type === "PUBLIC KEY");
  if (block === undefined) {
    const found = pemBlocks(pem).map((b) => b.type);
    throw new SignError(
      "KEY_INVALID",
      found.length === 0
        ? `Cannot read ${what}: no PEM block in it`
        : `Cannot read ${what}: no "PUBLIC KEY" block in it (found ${found.map((t) => `"${t}"`).join(", ")})`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: block.body, format: "der", type: "spki" });
  } catch (error) {
    throw new SignError("KEY_INVALID", `Cannot read ${what}: ${(error as Error).message}`, { cause: error });
  }
  requireP256(publicKey, what);
  return {
    publicKey,
    keyId: keyIdOf(publicKey),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.notAfter === undefined ? {} : { notAfter: options.notAfter }),
  };
}

/** The private key in cosign's form: PKCS#8 sealed with the passphrase, PEM `ENCRYPTED SIGSTORE PRIVATE KEY`. */
export async function cosignPrivateKeyPem(key: SigningKey, passphrase: string): Promise<string> {
  const der = key.privateKey.export({ type: "pkcs8", format: "der" });
  const sealed = await encryptForCosign(der, passphrase);
  const lines = sealed.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${SIGSTORE_KEY_PEM}-----\n${lines.join("\n")}\n-----END ${SIGSTORE_KEY_PEM}-----\n`;
}

/** The verifier's view of a signing key. */
export const trustedKeyOf = (key: SigningKey, name?: string): TrustedKey => ({
  publicKey: key.publicKey,
  keyId: key.keyId,
  ...(name === undefined ? {} : { name }),
  ...(key.notAfter === undefined ? {} : { notAfter: key.notAfter }),
});
