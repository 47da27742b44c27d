// The HTTP client of the gallery commands: JSON to and from /api/v1 on --server, with the
// stored credentials; an error answer becomes a CliError carrying the server's message.
import { loadCredentials, type Credentials } from "./credentials.ts";
import { CliError, usageError } from "./errors.ts";

export const DEFAULT_SERVER = "http://127.0.0.1:5000";

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiClient {
  readonly server: string;
  call(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
}

/** The server URL: --server, else $STRATA_SERVER, else the default; without a trailing slash. */
export function serverUrl(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const url = flag ?? env.STRATA_SERVER ?? DEFAULT_SERVER;
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    throw usageError(`Invalid server URL "${url}": expected http://HOST:PORT or https://HOST`);
  }
  return url.replace(/\/+$/, "");
}

export function createApiClient(server: string, credentials: Credentials | undefined): ApiClient {
  const authorization =
    credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  return {
    server,
    async call(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${server}/api/v1${path}`, {
          method,
          headers: {
            accept: "application/json",
            ...(authorization === undefined ? {} : { authorization }),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(120_000),
        });
      } catch (error) {
        const reason = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new CliError(
          `Cannot reach Strata at ${server}: ${reason?.code ?? reason?.message ?? (error as Error).message}`,
          1,
          {
            cause: error,
          },
        );
      }
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        // Not JSON: reported as text below.
      }
      if (response.status >= 400) {
        const first = (parsed as { errors?: { message?: string }[] } | undefined)?.errors?.[0]?.message;
        throw new CliError(first ?? `HTTP ${response.status} from ${server}: ${text.slice(0, 200)}`);
      }
      return { status: response.status, body: parsed };
    },
  };
}

/** A client for the command's --server with the credentials stored for it. */
export async function clientFor(
  flags: { server?: string },
  env: Readonly<Record<string, string | undefined>>,
): Promise<ApiClient> {
  const server = serverUrl(flags.server, env);
  return createApiClient(server, await loadCredentials(env, server));
}
