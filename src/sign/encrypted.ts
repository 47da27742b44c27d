// cosign's private key encryption (go-securesystemslib's `encrypted` package, which cosign and
// sigstore's cryptoutils use): the key is sealed with NaCl secretbox (XSalsa20-Poly1305) under a
// key derived from the passphrase by scrypt, and kept as JSON —
//   {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":B64},
//    "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
// — which is the body of the `ENCRYPTED SIGSTORE PRIVATE KEY` PEM block (keys.ts).
import { randomBytes, scrypt } from "node:crypto";
import nacl from "tweetnacl";
import { SignError } from "./errors.ts";

const SALT_SIZE = 32;
const KEY_SIZE = 32;
const NONCE_SIZE = 24;
/** The parameter sets the Go package accepts (legacy, standard, OWASP); it writes the standard one. */
const ACCEPTED = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
] as const;
const STANDARD = ACCEPTED[1];

interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      Buffer.from(passphrase, "utf8"),
      salt,
      KEY_SIZE,
      // scrypt needs 128·N·r bytes; room for the largest accepted set.
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * 1024 * 1024 },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    ),
  );
}

/** Seals `plaintext` (a PKCS#8 DER key) as cosign does; the JSON's bytes. */
export async function encryptForCosign(plaintext: Buffer, passphrase: string): Promise<Buffer> {
  const salt = randomBytes(SALT_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const key = await deriveKey(passphrase, salt, STANDARD);
  const sealed = nacl.secretbox(plaintext, nonce, key);
  return Buffer.from(
    JSON.stringify({
      kdf: { name: "scrypt", params: STANDARD, salt: salt.toString("base64") },
      cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
      ciphertext: Buffer.from(sealed).toString("base64"),
    }),
  );
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Field(value: unknown, what: string): Buffer {
  if (typeof value !== "string" || !B64.test(value))
    throw new SignError("KEY_INVALID", `Encrypted key: ${what} is not base64`);
  return Buffer.from(value, "base64");
}

/** Opens cosign's sealed JSON; a KEY_PASSPHRASE error when the passphrase is wrong. */
export async function decryptFromCosign(sealed: Buffer, passphrase: string): Promise<Buffer> {
  let data: {
    kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
    cipher?: { name?: unknown; nonce?: unknown };
    ciphertext?: unknown;
  };
  try {
    data = JSON.parse(sealed.toString("utf8")) as typeof data;
  } catch (error) {
    throw new SignError("KEY_INVALID", "Encrypted key: its body is not JSON", { cause: error });
  }
  if (typeof data !== "object" || data === null)
    throw new SignError("KEY_INVALID", "Encrypted key: its body is not a JSON object");
  if (data.kdf?.name !== "scrypt")
    throw new SignError("KEY_INVALID", `Encrypted key: unknown kdf name ${JSON.stringify(data.kdf?.name)}`);
  if (data.cipher?.name !== "nacl/secretbox")
    throw new SignError(
      "KEY_INVALID",
      `Encrypted key: unknown cipher name ${JSON.stringify(data.cipher?.name)}`,
    );
  const p = data.kdf.params;
  const params = ACCEPTED.find((a) => a.N === p?.N && a.r === p.r && a.p === p.p);
  if (params === undefined)
    throw new SignError("KEY_INVALID", `Encrypted key: unsupported scrypt parameters ${JSON.stringify(p)}`);
  const salt = base64Field(data.kdf.salt, "salt");
  const nonce = base64Field(data.cipher.nonce, "nonce");
  const ciphertext = base64Field(data.ciphertext, "ciphertext");
  if (nonce.length !== NONCE_SIZE)
    throw new SignError("KEY_INVALID", `Encrypted key: nonce is ${nonce.length} bytes, not ${NONCE_SIZE}`);
  const key = await deriveKey(passphrase, salt, params);
  const opened = nacl.secretbox.open(ciphertext, nonce, key);
  if (opened === null)
    throw new SignError("KEY_PASSPHRASE", "Cannot decrypt the private key: wrong passphrase");
  return Buffer.from(opened);
}
