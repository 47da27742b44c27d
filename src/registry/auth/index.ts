// Public surface of registry authentication and authorization.
export type {
  AccessRequest,
  AccessRule,
  Action,
  AnonymousAccess,
  AuthConfig,
  AuthResult,
  AuthUser,
  Authenticator,
  TokenConfig,
  TokenResponse,
} from "./types.ts";
export { ACTIONS } from "./types.ts";
export { createAuthenticator, type AuthenticatorOptions } from "./authenticator.ts";
export { hashPassword, verifyPassword, isPasswordHash } from "./password.ts";
export { checkAuthConfig, type AuthConfigProblem } from "./check-config.ts";
export { checkRepositoryGlob } from "../../oci/index.ts";
export { tokenKeyPath } from "./token-key.ts";
