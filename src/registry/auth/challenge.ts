// The `WWW-Authenticate: Bearer …` challenge that docker, podman and skopeo follow to /token.

export interface Challenge {
  readonly realm: string;
  readonly service: string;
  readonly scope?: string | undefined;
  readonly error?: "invalid_token" | "insufficient_scope" | undefined;
}

const quoted = (value: string): string => `"${value.replace(/["\\]/g, "\\$&").replace(/[\r\n]/g, "")}"`;

export function bearerChallenge(challenge: Challenge): string {
  let header = `Bearer realm=${quoted(challenge.realm)},service=${quoted(challenge.service)}`;
  if (challenge.scope !== undefined) header += `,scope=${quoted(challenge.scope)}`;
  if (challenge.error !== undefined) header += `,error=${quoted(challenge.error)}`;
  return header;
}
