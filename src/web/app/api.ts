// The console's only way to the server: fetch against the public gallery API (/api/v1), with the
// session cookie sent by the browser and the session's CSRF token on every change. Errors come
// back as ApiError with the API's message, which pages show as they are. Reads are conditional:
// the last answer of each path is kept with its ETag, sent back as If-None-Match, and a 304
// answers that same parsed value (the same object, so callers can tell nothing changed).

export type Role = "reader" | "publisher" | "approver" | "admin";
const RANK: Record<Role, number> = { reader: 0, publisher: 1, approver: 2, admin: 3 };

export interface Gallery {
  name: string;
  description: string;
  mode: string;
  approvals: number;
  restoreDays: number;
  members: Record<string, Role>;
  createdAt: string;
  createdBy: string;
}

export interface Definition {
  gallery: string;
  name: string;
  repository: string;
  kind: "container" | "vm";
  description?: string;
  os?: string;
  arch?: string;
  publisher?: string;
  owner?: string;
  releaseNotesUrl?: string;
  labels?: Record<string, string>;
  vm?: {
    generation?: string;
    bootMode?: string;
    secureBoot?: boolean;
    recommendedVcpus?: number;
    recommendedMemoryMiB?: number;
  };
  replicateTo?: string[];
  rebuildDays?: number;
  createdAt: string;
  createdBy: string;
}

export type VersionState = "published" | "deprecated" | "revoked" | "end-of-life" | "deleted";

export interface Version {
  gallery: string;
  image: string;
  version: string;
  digest: string;
  mediaType: string;
  state: VersionState;
  changelog?: string;
  buildId?: string;
  sourceRevision?: string;
  owner?: string;
  baseDigest?: string;
  eol?: string;
  excludeFromLatest: boolean;
  createdAt: string;
  publishedBy: string;
  deprecation?: { reason: string; replacement?: string; at: string };
  revocation?: { reason: string; at: string; by: string };
  deletion?: { at: string; by: string; restorableUntil: string };
}

export interface VersionDetail extends Version {
  bytes: { total: number; own: number; shared: number };
  changes?: {
    against: { version?: string; digest: string };
    packages?: { added: number; removed: number; upgraded: number; downgraded: number };
    files?: { added: number; removed: number; changed: number };
    config?: string[];
  };
}

export interface Channel {
  name: string;
  version: string | null;
  restricted: boolean;
  approvals: number;
  seq: number;
  updatedAt: string;
  updatedBy: string;
}

export interface Move {
  seq: number;
  version: string | null;
  previous: string | null;
  action: "set" | "rollback" | "approved";
  actor: string;
  at: string;
  request?: string;
}

export interface ApprovalRequest {
  id: string;
  kind: "channel" | "copy";
  gallery: string;
  image: string;
  version: string;
  target: { gallery: string; image: string; channel?: string };
  requestedBy: string;
  requestedAt: string;
  required: number;
  approvals: { user: string; at: string; comment?: string }[];
  state: "pending" | "applying" | "applied" | "rejected" | "failed";
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  gallery: string;
  image?: string;
  version?: string;
  target?: string;
  before?: unknown;
  after?: unknown;
}

/** A page of a definition's versions (GET …/versions with limit, after, before, state, prefix). */
export interface VersionPage {
  versions: Version[];
  total: number;
  /** How many matching versions rank above the page's first. */
  offset: number;
  /** `after` for the next (lower) page. */
  next?: string;
  /** `before` for the previous (higher) page. */
  previous?: string;
}

/** GET /search: each kind with its total and the cursor of its next page. */
export interface SearchResults {
  definitions: { items: Definition[]; total: number; next?: string };
  versions: { items: Version[]; total: number; next?: string };
}

export interface SessionInfo {
  /** null: anonymous (or authentication off). */
  user: string | null;
  /** False when the server has no users: everyone may do everything. */
  authentication: boolean;
  /** Callers without credentials may read every gallery (`auth.anonymous: read`). */
  anonymousRead: boolean;
  csrfToken?: string;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
const sessionListeners = new Set<() => void>();

/** Set after sign-in; sent as X-CSRF-Token with every change. */
export function setCsrfToken(token: string | undefined): void {
  if (token === csrfToken) return;
  csrfToken = token;
  cached.clear();
  for (const listener of sessionListeners) listener();
}

/** Calls `listener` whenever the session changes (sign-in, sign-out); returns the unsubscribe. */
export function onSessionChange(listener: () => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

/** The last answer of each read path with its ETag, the oldest dropped beyond CACHED_PATHS. */
const cached = new Map<string, { etag: string; value: unknown }>();
const CACHED_PATHS = 200;

/** Calls /api/v1 + path; answers the parsed JSON (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  // X-Requested-With: the server then answers 401 without a Basic challenge, which would make
  // the browser open its own password prompt.
  const headers: Record<string, string> = {
    Accept: "application/json",
    "X-Requested-With": "strata-console",
  };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken !== undefined) headers["X-CSRF-Token"] = csrfToken;
  const known = method === "GET" ? cached.get(path) : undefined;
  if (known !== undefined) headers["If-None-Match"] = known.etag;
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: "same-origin",
    // The console keeps answers itself: the browser's cache would turn a 304 into a 200.
    cache: "no-store",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 304 && known !== undefined) {
    cached.delete(path);
    cached.set(path, known);
    return known.value as T;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `The server answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const first = (parsed as { errors?: { message?: string }[] } | undefined)?.errors?.[0];
    throw new ApiError(res.status, first?.message ?? `The server answered ${res.status}`);
  }
  const etag = res.headers.get("ETag");
  if (method === "GET" && etag !== null) {
    cached.delete(path);
    cached.set(path, { etag, value: parsed });
    if (cached.size > CACHED_PATHS) cached.delete(cached.keys().next().value ?? "");
  } else if (method === "GET") cached.delete(path);
  return parsed as T;
}

/** Path segment, encoded. */
export const seg = (value: string): string => encodeURIComponent(value);

export const versionPath = (g: string, i: string, v: string): string =>
  `/galleries/${seg(g)}/images/${seg(i)}/versions/${seg(v)}`;

/** The caller's role in a gallery: admin when authentication is off, undefined for none. */
export function roleIn(gallery: Gallery | undefined, session: SessionInfo): Role | undefined {
  if (!session.authentication) return "admin";
  if (gallery === undefined || session.user === null) return undefined;
  return gallery.members[session.user];
}

export function atLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}
