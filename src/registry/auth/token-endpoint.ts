// GET /token of the Docker token spec: authenticates with Basic credentials or none, grants the
// intersection of the requested scopes and what the caller may do (possibly nothing, still 200,
// as Distribution does), and answers a signed JWT with its lifetime.
import type { AccessPolicy } from "./access-policy.ts";
import type { Credentials } from "./credentials.ts";
import type { PasswordChecker } from "./password-checker.ts";
import { parseScope } from "./scope.ts";
import type { TokenAccess, TokenSigner } from "./tokens.ts";
import type { Action, TokenConfig, TokenResponse } from "./types.ts";

const MAX_SCOPES = 64;

export interface TokenEndpointDeps {
  readonly config: TokenConfig;
  readonly policy: AccessPolicy;
  /** Actions a user has on a repository: the rules and any extra grants. */
  readonly actions: (
    user: string | undefined,
    repository: string,
    wanted: readonly Action[],
  ) => Promise<ReadonlySet<Action>>;
  readonly signer: TokenSigner;
  readonly checkPassword: PasswordChecker;
}

export type TokenQuery = Record<string, string | string[] | undefined>;

const errorBody = (code: string, message: string): unknown => ({ errors: [{ code, message }] });

function list(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((v) =>
    v.split(" ").filter((s) => s !== ""),
  );
}

export async function answerTokenRequest(
  deps: TokenEndpointDeps,
  credentials: Credentials,
  query: TokenQuery,
): Promise<TokenResponse> {
  const { config, policy } = deps;
  const unauthorized = (message: string): TokenResponse => ({
    status: 401,
    body: errorBody("UNAUTHORIZED", message),
    headers: { "WWW-Authenticate": `Basic realm=${JSON.stringify(config.service)}` },
  });
  const badRequest = (message: string): TokenResponse => ({
    status: 400,
    body: errorBody("UNSUPPORTED", message),
  });

  let user: string | undefined;
  if (credentials.kind === "malformed")
    return unauthorized(`Malformed Authorization header: ${credentials.reason}`);
  if (credentials.kind === "bearer") return unauthorized("Token requests take Basic credentials or none");
  if (credentials.kind === "basic") {
    if (!(await deps.checkPassword(credentials.user, credentials.password))) {
      return unauthorized("Invalid username or password");
    }
    user = credentials.user;
  }

  const service = list(query.service)[0];
  if (service !== undefined && service !== config.service) {
    return badRequest(
      `Unknown service ${JSON.stringify(service.slice(0, 80))}: this endpoint issues tokens for ${JSON.stringify(config.service)}`,
    );
  }
  const scopes = list(query.scope);
  if (scopes.length > MAX_SCOPES)
    return badRequest(`Too many scopes: ${scopes.length} is over the limit of ${MAX_SCOPES}`);

  const granted = new Map<string, Set<string>>();
  let catalog = false;
  for (const text of scopes) {
    const scope = parseScope(text);
    if (scope === undefined) {
      return badRequest(
        `Invalid scope ${JSON.stringify(text.slice(0, 300))}: expected repository:NAME:ACTIONS`,
      );
    }
    if (scope.type === "catalog") {
      catalog ||= user !== undefined || policy.anonymousCatalog;
    } else if (scope.type === "repository") {
      const allowed = await deps.actions(user, scope.name, scope.actions);
      const actions = granted.get(scope.name) ?? new Set<string>();
      for (const action of scope.actions) if (allowed.has(action)) actions.add(action);
      granted.set(scope.name, actions);
    }
  }
  const access: TokenAccess[] = [...granted]
    .filter(([, actions]) => actions.size > 0)
    .map(([name, actions]) => ({ type: "repository", name, actions: [...actions] }));
  if (catalog) access.push({ type: "registry", name: "catalog", actions: ["*"] });

  const issued = await deps.signer.issue(user, access);
  return {
    status: 200,
    headers: { "Cache-Control": "no-store" },
    body: {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt.toISOString(),
    },
  };
}
