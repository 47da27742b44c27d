// Bearer tokens: JWTs signed with HS256 under the persisted token key. HS256 because the same
// servers that issue tokens verify them (no third party needs a public key), and an HMAC check
// on every request costs microseconds where an ECDSA verification costs far more.
import { createHash, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import type { TokenConfig } from "./types.ts";

export interface TokenAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export interface IssuedToken {
  readonly token: string;
  /** Seconds. */
  readonly expiresIn: number;
  readonly issuedAt: Date;
}

export type VerifiedToken =
  | { readonly ok: true; readonly subject: string | undefined; readonly access: readonly TokenAccess[] }
  | { readonly ok: false; readonly reason: string };

export interface TokenSigner {
  issue(subject: string | undefined, access: readonly TokenAccess[]): Promise<IssuedToken>;
  verify(token: string): Promise<VerifiedToken>;
}

const ALG = "HS256";
/** Tolerated clock difference between servers sharing a key, in seconds. */
const CLOCK_TOLERANCE = 5;

function isAccessList(value: unknown): value is TokenAccess[] {
  return (
    Array.isArray(value) &&
    value.every(
      (entry: unknown) =>
        typeof entry === "object" &&
        entry !== null &&
        typeof (entry as TokenAccess).type === "string" &&
        typeof (entry as TokenAccess).name === "string" &&
        Array.isArray((entry as TokenAccess).actions) &&
        (entry as TokenAccess).actions.every((a) => typeof a === "string"),
    )
  );
}

function reasonOf(error: unknown, config: TokenConfig): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return `token is not for service ${JSON.stringify(config.service)}`;
    if (error.claim === "iss") return `token is not from issuer ${JSON.stringify(config.issuer)}`;
    if (error.claim === "nbf") return "token is not valid yet";
    return `token claim ${JSON.stringify(error.claim)} is invalid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "token signature does not verify";
  if (error instanceof errors.JOSEAlgNotAllowed) return `token is not signed with ${ALG}`;
  return "malformed token";
}

export function createTokenSigner(
  key: Uint8Array,
  config: TokenConfig,
  now: () => number = Date.now,
): TokenSigner {
  const kid = createHash("sha256").update(key).digest("base64url").slice(0, 16);
  return {
    async issue(subject, access) {
      const issuedAt = new Date(now());
      const iat = Math.floor(issuedAt.getTime() / 1000);
      const expiresIn = Math.max(1, Math.round(config.ttl / 1000));
      const jwt = new SignJWT({ access })
        .setProtectedHeader({ alg: ALG, typ: "JWT", kid })
        .setIssuer(config.issuer)
        .setAudience(config.service)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + expiresIn)
        .setJti(randomUUID());
      if (subject !== undefined) jwt.setSubject(subject);
      return { token: await jwt.sign(key), expiresIn, issuedAt };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALG],
          audience: config.service,
          issuer: config.issuer,
          clockTolerance: CLOCK_TOLERANCE,
          currentDate: new Date(now()),
          requiredClaims: ["exp", "iat"],
        });
        const access = payload.access ?? [];
        if (!isAccessList(access)) return { ok: false, reason: "token access claim is malformed" };
        const subject = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : undefined;
        return { ok: true, subject, access };
      } catch (error) {
        return { ok: false, reason: reasonOf(error, config) };
      }
    },
  };
}

/** Actions a verified token grants on a repository. */
export function tokenActions(access: readonly TokenAccess[], repository: string): ReadonlySet<string> {
  const actions = new Set<string>();
  for (const entry of access) {
    if (entry.type !== "repository" || entry.name !== repository) continue;
    for (const action of entry.actions) actions.add(action);
  }
  return actions;
}
