// The authenticator the registry consults on every request. With no users configured it is off
// and allows everything; otherwise callers authenticate with Basic credentials on each request
// or with a bearer token from /token, and access rules decide what they may do.
import { createAccessPolicy, type AccessPolicy } from "./access-policy.ts";
import { bearerChallenge } from "./challenge.ts";
import { checkAuthConfig } from "./check-config.ts";
import { parseAuthorization } from "./credentials.ts";
import { createPasswordChecker, type PasswordCheckerOptions } from "./password-checker.ts";
import { formatScope } from "./scope.ts";
import { answerTokenRequest } from "./token-endpoint.ts";
import { loadTokenKey } from "./token-key.ts";
import { createTokenSigner, tokenActions, type TokenAccess } from "./tokens.ts";
import type { AccessRequest, Action, AuthConfig, AuthResult, Authenticator } from "./types.ts";

export interface AuthenticatorOptions {
  /** Data directory; the token key lives in `<dataDir>/auth/token-key`. */
  readonly dataDir: string;
  /** Clock for token times and the password cache (ms since the epoch). */
  readonly now?: () => number;
  readonly passwordCache?: Omit<PasswordCheckerOptions, "now">;
  /**
   * Actions granted beyond the access rules (the gallery's members and roles); asked only when
   * the rules alone do not grant what a request needs.
   */
  readonly grants?: (user: string | undefined, repository: string) => Promise<readonly Action[]>;
}

const quote = (value: string): string =>
  JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
const listActions = (actions: readonly Action[]): string => actions.map((a) => `"${a}"`).join(", ");

const disabled: Authenticator = {
  enabled: false,
  authorize: async () => ({ ok: true }),
  token: async () => ({
    status: 404,
    body: {
      errors: [{ code: "UNSUPPORTED", message: "Token authentication is off: no users are configured" }],
    },
  }),
  canPull: async () => true,
  allows: async () => true,
};

export async function createAuthenticator(
  config: AuthConfig,
  options: AuthenticatorOptions,
): Promise<Authenticator> {
  const problems = checkAuthConfig(config);
  if (problems.length > 0) {
    const detail = problems.map((p) => `auth.${p.path.join(".")}: ${p.message}`).join("; ");
    throw new Error(`Invalid auth configuration: ${detail}`);
  }
  const users = new Set(Object.keys(config.users));
  if (users.size === 0) return disabled;

  const now = options.now ?? Date.now;
  const policy: AccessPolicy = createAccessPolicy(config);
  const checkPassword = await createPasswordChecker(config.users, { ...options.passwordCache, now });
  const signer = createTokenSigner(await loadTokenKey(options.dataDir), config.token, now);
  const grants = options.grants;

  /** The rules' actions, plus the extra grants when the rules miss one of `wanted`. */
  async function actionsFor(
    user: string | undefined,
    repository: string,
    wanted: readonly Action[],
  ): Promise<ReadonlySet<Action>> {
    const allowed = policy.actions(user, repository);
    if (grants === undefined || wanted.every((a) => allowed.has(a))) return allowed;
    const extra = await grants(user, repository);
    return extra.length === 0 ? allowed : new Set([...allowed, ...extra]);
  }

  async function authorize(
    req: Parameters<Authenticator["authorize"]>[0],
    access: AccessRequest,
  ): Promise<AuthResult> {
    const { repository } = access;
    const unauthorized = (message: string, error?: "invalid_token" | "insufficient_scope"): AuthResult => ({
      ok: false,
      status: 401,
      code: "UNAUTHORIZED",
      message,
      headers: {
        "WWW-Authenticate": bearerChallenge({
          realm: config.token.realm ?? `${req.baseUrl}/token`,
          service: config.token.service,
          scope: access.catalog === true ? undefined : formatScope(repository, access.actions),
          error,
        }),
      },
    });

    const credentials = parseAuthorization(req.headers);
    let user: string | undefined;
    let tokenAccess: readonly TokenAccess[] | undefined;
    if (credentials.kind === "malformed") {
      return unauthorized(`Malformed Authorization header: ${credentials.reason}`);
    } else if (credentials.kind === "basic") {
      if (!(await checkPassword(credentials.user, credentials.password))) {
        return unauthorized("Invalid username or password");
      }
      user = credentials.user;
    } else if (credentials.kind === "bearer") {
      const verified = await signer.verify(credentials.token);
      if (!verified.ok) return unauthorized(`Invalid bearer token: ${verified.reason}`, "invalid_token");
      if (verified.subject !== undefined && !users.has(verified.subject)) {
        return unauthorized(`Invalid bearer token: unknown user ${quote(verified.subject)}`, "invalid_token");
      }
      user = verified.subject;
      tokenAccess = verified.access;
    }
    const ok: AuthResult = user === undefined ? { ok: true } : { ok: true, user };

    if (access.catalog === true) {
      return user !== undefined || policy.anonymousCatalog
        ? ok
        : unauthorized("Authentication required to list repositories");
    }
    if (repository === undefined) {
      // The base endpoint answers 200 only to callers who sent valid credentials, so that a
      // client's login check fails on a wrong password even when anonymous pulls are allowed.
      return credentials.kind === "none" ? unauthorized("Authentication required") : ok;
    }
    const allowed = await actionsFor(user, repository, access.actions);
    const missing = access.actions.filter((a) => !allowed.has(a));
    if (missing.length > 0) {
      if (user === undefined) {
        return unauthorized(
          `Authentication required for ${listActions(missing)} access to ${quote(repository)}`,
        );
      }
      return {
        ok: false,
        status: 403,
        code: "DENIED",
        message: `User ${quote(user)} lacks ${listActions(missing)} access to ${quote(repository)}`,
        headers: {},
      };
    }
    if (tokenAccess !== undefined) {
      const granted = tokenActions(tokenAccess, repository);
      const notGranted = access.actions.filter((a) => !granted.has(a));
      if (notGranted.length > 0) {
        return unauthorized(
          `Bearer token does not grant ${listActions(notGranted)} access to ${quote(repository)}`,
          "insufficient_scope",
        );
      }
    }
    return ok;
  }

  return {
    enabled: true,
    authorize,
    token: (req) =>
      answerTokenRequest(
        { config: config.token, policy, actions: actionsFor, signer, checkPassword },
        parseAuthorization(req.headers),
        req.query,
      ),
    canPull: async (user, repository) => (await actionsFor(user, repository, ["pull"])).has("pull"),
    allows: async (user, repository, action) => (await actionsFor(user, repository, [action])).has(action),
  };
}
