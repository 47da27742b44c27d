// Checks Basic credentials against `auth.users` without making scrypt a bottleneck: successful
// checks are remembered for a short time (keyed by an HMAC of user and password under a
// per-process key, in a bounded LRU), concurrent checks of the same credentials share one
// scrypt run, and unknown users cost as much as known ones so timing does not reveal names.
import { createHmac, randomBytes } from "node:crypto";
import { LruCache } from "../../lib/lru.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import type { AuthUser } from "./types.ts";

export interface PasswordCheckerOptions {
  /** How long a successful check is remembered (ms); default 60 s. */
  readonly ttlMs?: number;
  /** How many successful checks are remembered; default 1024. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** The slow check itself; verifyPassword unless a test counts calls. */
  readonly verify?: (password: string, hash: string) => Promise<boolean>;
}

export type PasswordChecker = (user: string, password: string) => Promise<boolean>;

export async function createPasswordChecker(
  users: Readonly<Record<string, AuthUser>>,
  options: PasswordCheckerOptions = {},
): Promise<PasswordChecker> {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const verify = options.verify ?? verifyPassword;
  const maxEntries = options.maxEntries ?? 1024;
  const cache = new LruCache<string, number>(maxEntries, () => 1, maxEntries);
  const inFlight = new Map<string, Promise<boolean>>();
  const cacheKey = randomBytes(32);
  const hashes = new Map(Object.entries(users).map(([name, user]) => [name, user.password]));
  // Unknown users are checked against a hash of a random password, which never matches.
  const decoy = await hashPassword(randomBytes(16).toString("hex"));

  return async (user, password) => {
    const key = createHmac("sha256", cacheKey).update(user).update("\0").update(password).digest("base64");
    const expires = cache.get(key);
    if (expires !== undefined) {
      if (expires > now()) return true;
      cache.delete(key);
    }
    let pending = inFlight.get(key);
    if (pending === undefined) {
      const hash = hashes.get(user);
      pending = verify(password, hash ?? decoy).then((ok) => ok && hash !== undefined);
      inFlight.set(key, pending);
      void pending.finally(() => inFlight.delete(key)).catch(() => undefined);
    }
    const ok = await pending;
    if (ok) cache.set(key, now() + ttlMs);
    return ok;
  };
}
