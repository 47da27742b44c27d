// Browser sessions of the web console: a random id in the `strata_session` cookie names a
// signed-in user and a CSRF token, kept in memory with an expiry. A restart signs everyone out.
import { randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "strata_session";
export const CSRF_HEADER = "x-csrf-token";
/** Sessions last 12 hours from sign-in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly csrfToken: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface SessionStore {
  create(user: string): Session;
  /** The live session of an id, or undefined (unknown or expired). */
  get(id: string | undefined): Session | undefined;
  delete(id: string): void;
}

export function createSessionStore(options: { ttlMs?: number; now?: () => number } = {}): SessionStore {
  const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  let lastSweep = 0;

  function sweep(): void {
    const t = now();
    if (t - lastSweep < 60_000) return;
    lastSweep = t;
    for (const [id, session] of sessions) if (session.expiresAt <= t) sessions.delete(id);
  }

  return {
    create(user) {
      sweep();
      const session: Session = {
        id: randomBytes(32).toString("base64url"),
        user,
        csrfToken: randomBytes(32).toString("base64url"),
        expiresAt: now() + ttlMs,
      };
      sessions.set(session.id, session);
      return session;
    },
    get(id) {
      if (id === undefined || id === "") return undefined;
      sweep();
      const session = sessions.get(id);
      if (session === undefined) return undefined;
      if (session.expiresAt <= now()) {
        sessions.delete(id);
        return undefined;
      }
      return session;
    },
    delete(id) {
      sessions.delete(id);
    },
  };
}

/** The value of one cookie of a Cookie header, or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join("; ") : header;
  if (text === undefined) return undefined;
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(session: Session, presented: string | string[] | undefined): boolean {
  if (typeof presented !== "string") return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The Set-Cookie value that carries a session (or, with maxAge 0, clears it). */
export function sessionCookie(value: string, options: { maxAgeSeconds: number; secure: boolean }): string {
  const parts = [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${options.maxAgeSeconds}`,
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}
