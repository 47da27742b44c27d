// The contract between the registry and its authentication: actions, access requests, results,
// the authenticator and the `auth` section of the configuration.

export type Action = "pull" | "push" | "delete";

/** Every action, in the order scopes and messages list them. */
export const ACTIONS: readonly Action[] = ["pull", "push", "delete"];

export interface AccessRequest {
  /** The repository of the request; absent for the base endpoint and the catalog. */
  readonly repository?: string;
  readonly actions: readonly Action[];
  /** The catalog (`/v2/_catalog`): any authenticated user, or anonymous callers with pull access. */
  readonly catalog?: boolean;
}

export type AuthResult =
  | { ok: true; user?: string }
  | {
      ok: false;
      status: 401 | 403;
      code: "UNAUTHORIZED" | "DENIED";
      message: string;
      headers: Record<string, string>;
    };

export type RequestHeaders = Record<string, string | string[] | undefined>;

export interface TokenResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Authenticator {
  /** False when no users are configured: every request is allowed. */
  readonly enabled: boolean;
  /**
   * baseUrl is how the client reached us (e.g. http://127.0.0.1:5000), used for the Bearer realm;
   * route: the name of the registry route asked (e.g. "manifest"), when it is one.
   */
  authorize(
    req: { headers: RequestHeaders; baseUrl: string; route?: string },
    access: AccessRequest,
  ): Promise<AuthResult>;
  /** GET /token (Docker token auth spec): query has service, scope (repeated or space-separated), account. */
  token(req: {
    headers: RequestHeaders;
    query: Record<string, string | string[] | undefined>;
  }): Promise<TokenResponse>;
  /** Filters catalog entries to those the caller may pull. */
  canPull(user: string | undefined, repository: string): Promise<boolean>;
  /** Whether `user` (undefined = anonymous) has `action` on a repository: rules, anonymous read, grants. */
  allows(user: string | undefined, repository: string, action: Action): Promise<boolean>;
}

/** `none`: anonymous callers get only what access rules grant "anonymous"; `read`: pull everywhere. */
export type AnonymousAccess = "none" | "read";

export interface AuthUser {
  /** A hash from `strata hash-password` (`$scrypt$ln=…,r=…,p=…$salt$hash`), never a password. */
  readonly password: string;
}

export interface AccessRule {
  /** Globs: `*` matches within one path component, `**` matches anything including `/`. */
  readonly repositories: readonly string[];
  /** User names, `*` for any authenticated user, `anonymous` for callers without credentials. */
  readonly users: readonly string[];
  readonly actions: readonly Action[];
}

export interface TokenConfig {
  /** Lifetime of issued tokens in milliseconds. */
  readonly ttl: number;
  readonly issuer: string;
  /** The `service` of the challenge and the `aud` of tokens. */
  readonly service: string;
  /** Token endpoint URL for the challenge; default: the URL the client used, plus `/token`. */
  readonly realm?: string;
}

export interface AuthConfig {
  readonly anonymous: AnonymousAccess;
  readonly users: Readonly<Record<string, AuthUser>>;
  readonly access: readonly AccessRule[];
  readonly token: TokenConfig;
}
