// Password hashes for `auth.users`: scrypt with a random salt in a self-describing string,
// `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (PHC style, unpadded base64), so the cost can be raised
// later without breaking existing hashes. Verification compares in constant time.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** Default cost: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds). */
const DEFAULT_LOG_N = 15;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const HASH_RE =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22,88})\$([A-Za-z0-9+/]{22,88})$/;

interface ParsedHash {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function derive(
  password: string,
  salt: Buffer,
  length: number,
  params: ParsedHash | { logN: number; r: number; p: number },
): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, length, options, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

const b64 = (buf: Buffer): string => buf.toString("base64").replace(/=+$/, "");

function parseHash(hash: string): ParsedHash | undefined {
  const m = HASH_RE.exec(hash);
  if (m === null) return undefined;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a hostile or mistyped hash from asking for gigabytes of memory.
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16 || 128 * 2 ** logN * r > 1024 ** 3) {
    return undefined;
  }
  const salt = Buffer.from(m[4] ?? "", "base64");
  const key = Buffer.from(m[5] ?? "", "base64");
  if (salt.length < 16 || key.length < 16) return undefined;
  return { logN, r, p, salt, key };
}

/** True when `hash` is a well-formed scrypt hash this module can verify. */
export function isPasswordHash(hash: string): boolean {
  return parseHash(hash) !== undefined;
}

/** Hashes a password with scrypt and a random salt; `logN` (10–20) sets the cost, default 15. */
export async function hashPassword(password: string, options: { logN?: number } = {}): Promise<string> {
  const logN = options.logN ?? DEFAULT_LOG_N;
  if (!Number.isInteger(logN) || logN < 10 || logN > 20) {
    throw new RangeError(`Invalid scrypt cost "${logN}": expected an integer from 10 to 20`);
  }
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { logN, r: 8, p: 1 });
  return `$scrypt$ln=${logN},r=8,p=1$${b64(salt)}$${b64(key)}`;
}

/** True when `password` matches `hash`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (parsed === undefined) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, parsed);
  return timingSafeEqual(key, parsed.key);
}
