// The web console's sign-in under /api/v1/session (POST signs in, GET answers the current
// session, DELETE signs out, GET /access answers what the caller may do on a registry
// repository) and the CSRF rule for cookie-authenticated changes: a POST, PUT, PATCH or DELETE
// to /api or /v2 that carries the session cookie and no Authorization header must carry the
// session's token in X-CSRF-Token, else it is refused with 403 before any handler runs. Requests
// with Basic or Bearer credentials are not affected.
import type { FastifyInstance } from "fastify";
import { API_PREFIX, GalleryError, sendApiError } from "../gallery/index.ts";
import { isRepositoryName } from "../oci/index.ts";
import type { AccessRequest, Action, Authenticator, AuthResult } from "../registry/index.ts";
import {
  createSessionStore,
  csrfMatches,
  CSRF_HEADER,
  readCookie,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionCookie,
  type Session,
  type SessionStore,
} from "./sessions.ts";

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export const SESSION_PATH = `${API_PREFIX}/session`;
const EVENTS_STREAM_PATH = `${API_PREFIX}/events`;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const MAX_CREDENTIAL = 1024;

export interface SessionApi {
  readonly store: SessionStore;
  /** The session a request's cookie names, when it has no Authorization header. */
  sessionOf(req: { headers: Headers }): Session | undefined;
}

export function registerSessionApi(
  app: FastifyInstance,
  auth: Authenticator,
  options: { secure: boolean; ttlMs?: number; now?: () => number },
): SessionApi {
  const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  const store = createSessionStore({ ttlMs, ...(options.now === undefined ? {} : { now: options.now }) });
  const sessionOf = (req: { headers: Headers }): Session | undefined =>
    req.headers.authorization === undefined
      ? store.get(readCookie(req.headers.cookie, SESSION_COOKIE))
      : undefined;

  app.addHook("onRequest", async (req, reply) => {
    if (SAFE_METHODS.has(req.method)) return;
    const path = (req.raw.url ?? "/").split("?")[0] ?? "/";
    if (!isGuarded(path) || (path === SESSION_PATH && req.method === "POST")) return;
    const session = sessionOf(req);
    if (session === undefined || csrfMatches(session, req.headers[CSRF_HEADER])) return;
    return sendApiError(
      reply,
      new GalleryError(
        "FORBIDDEN",
        `Missing or wrong ${CSRF_HEADER} header: changes made with the session cookie must send the session's CSRF token`,
      ),
    );
  });

  // A 401 with a Basic challenge makes browsers open their own password prompt over the page:
  // answers to the console (which marks its requests with X-Requested-With) and to the session
  // endpoint carry none; the console shows its sign-in page instead.
  app.addHook("onSend", async (req, reply, payload) => {
    if (reply.statusCode !== 401) return payload;
    const path = (req.raw.url ?? "/").split("?")[0] ?? "/";
    // The console's EventSource cannot send X-Requested-With: its stream's 401 carries none either.
    if (path === SESSION_PATH || path === EVENTS_STREAM_PATH || req.headers["x-requested-with"] !== undefined)
      reply.removeHeader("WWW-Authenticate");
    return payload;
  });

  app.register(
    async (api) => {
      api.removeAllContentTypeParsers();
      api.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 16 * 1024 }, (_req, body, done) => {
        done(null, body);
      });
      api.setErrorHandler((error, _req, reply) => sendApiError(reply, error));

      api.post("/", async (req, reply) => {
        if (!auth.enabled) {
          throw new GalleryError(
            "CONFLICT",
            "Authentication is off: there are no users to sign in as, and every caller may do everything",
          );
        }
        // Only JSON: a form on another site can post text/plain or form data without the
        // browser asking first, and would sign the visitor in as someone else.
        const type = String(req.headers["content-type"] ?? "")
          .split(";")[0]
          ?.trim()
          .toLowerCase();
        if (type !== "application/json") {
          throw new GalleryError("INVALID", "Sign-in needs a JSON body (Content-Type: application/json)");
        }
        const { username, password } = credentials(req.body);
        const baseUrl = `${req.protocol}://${req.headers.host ?? req.hostname}`;
        const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
        const result = await auth.authorize({ headers: { authorization: basic }, baseUrl }, { actions: [] });
        if (!result.ok || result.user === undefined) {
          throw new GalleryError("UNAUTHORIZED", "Wrong user name or password");
        }
        // A sign-in replaces the session the browser had.
        const previous = readCookie(req.headers.cookie, SESSION_COOKIE);
        if (previous !== undefined) store.delete(previous);
        const session = store.create(result.user);
        reply
          .code(201)
          .header("Cache-Control", "no-store")
          .header(
            "Set-Cookie",
            sessionCookie(session.id, { maxAgeSeconds: Math.floor(ttlMs / 1000), secure: options.secure }),
          );
        return answer(session);
      });

      api.get("/", async (req, reply) => {
        const session = sessionOf(req);
        if (session === undefined) {
          throw new GalleryError(
            "UNAUTHORIZED",
            auth.enabled ? "Not signed in" : "Authentication is off: there is no session to sign in to",
          );
        }
        reply.header("Cache-Control", "no-store");
        return answer(session);
      });

      // What the caller (the session's user, or an anonymous caller) may do on a registry
      // repository, so the console shows only the actions the registry would accept.
      api.get("/access", async (req, reply) => {
        const raw = (req.query as Record<string, unknown>).repository;
        if (typeof raw !== "string" || !isRepositoryName(raw)) {
          throw new GalleryError("INVALID", 'Query "repository" must be a repository name');
        }
        const user = sessionOf(req)?.user;
        const actions: Action[] = [];
        for (const action of ["pull", "push", "delete"] as const)
          if (await auth.allows(user, raw, action)) actions.push(action);
        reply.header("Cache-Control", "no-store");
        return { repository: raw, user: user ?? null, actions };
      });

      api.delete("/", async (req, reply) => {
        const id = readCookie(req.headers.cookie, SESSION_COOKIE);
        if (id !== undefined) store.delete(id);
        reply
          .code(204)
          .header("Cache-Control", "no-store")
          .header("Set-Cookie", sessionCookie("", { maxAgeSeconds: 0, secure: options.secure }));
        return reply.send();
      });
    },
    { prefix: SESSION_PATH },
  );

  return { store, sessionOf };
}

function isGuarded(path: string): boolean {
  return [API_PREFIX, "/v2"].some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

function answer(session: Session) {
  return {
    user: session.user,
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

function credentials(raw: unknown): { username: string; password: string } {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.isBuffer(raw) ? raw.toString("utf8") : "{}");
  } catch (error) {
    throw new GalleryError("INVALID", `Invalid JSON body: ${(error as Error).message}`, { cause: error });
  }
  const { username, password } = (body ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || typeof password !== "string" || username === "") {
    throw new GalleryError("INVALID", 'Invalid body: "username" and "password" must be strings');
  }
  if (username.length > MAX_CREDENTIAL || password.length > MAX_CREDENTIAL || username.includes(":")) {
    throw new GalleryError("UNAUTHORIZED", "Wrong user name or password");
  }
  return { username, password };
}

/**
 * The registry's authenticator, with the console's session cookie accepted where the console
 * needs it. A request without an Authorization header whose cookie names a live session may pull
 * what that user may pull (and list the catalog), and may delete a manifest or a tag
 * (`DELETE /v2/<name>/manifests/<reference>`) where that user has the delete action, exactly as
 * with the user's credentials; the CSRF rule above has refused such a delete without the
 * session's token before it gets here. Every other change (pushes, blob and upload deletes)
 * still needs credentials.
 */
export function withSessionAccess(
  auth: Authenticator,
  sessionOf: (req: { headers: Headers }) => Session | undefined,
): Authenticator {
  async function authorize(
    req: { headers: Headers; baseUrl: string; route?: string },
    access: AccessRequest,
  ): Promise<AuthResult> {
    const session = auth.enabled ? sessionOf(req) : undefined;
    if (session === undefined) return auth.authorize(req, access);
    const reads = access.actions.every((action) => action === "pull");
    const manifestDelete =
      req.route === "manifest" &&
      access.repository !== undefined &&
      access.actions.length === 1 &&
      access.actions[0] === "delete";
    if (!reads && !manifestDelete) return auth.authorize(req, access);
    if (access.repository === undefined) return { ok: true, user: session.user };
    for (const action of access.actions) {
      if (!(await auth.allows(session.user, access.repository, action))) {
        return {
          ok: false,
          status: 403,
          code: "DENIED",
          message: `User ${JSON.stringify(session.user)} may not ${action} ${JSON.stringify(access.repository)}`,
          headers: {},
        };
      }
    }
    return { ok: true, user: session.user };
  }
  return {
    get enabled() {
      return auth.enabled;
    },
    authorize,
    token: (req) => auth.token(req),
    canPull: (user, repository) => auth.canPull(user, repository),
    allows: (user, repository, action) => auth.allows(user, repository, action),
  };
}
