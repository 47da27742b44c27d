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

/**
 * The server URL: --server, else $STRATA_SERVER, else the default; normalized (lowercase host,
 * no default port, no trailing slash), since it also names the stored credentials.
 */
export function serverUrl(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const text = flag ?? (env.STRATA_SERVER || DEFAULT_SERVER);
  const url = /^https?:\/\/[^/]/i.test(text) && URL.canParse(text) ? new URL(text) : null;
  if (url === null || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw usageError(`Invalid server URL "${text}": expected http://HOST:PORT or https://HOST`);
  }
  return url.href.replace(/\/+$/, "");
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
        const why = reason?.code ?? reason?.message ?? (error as Error).message;
        throw new CliError(`Cannot reach Strata at ${server}: ${why}`, 1, { cause: error });
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
        const message = first ?? `HTTP ${response.status} from ${server}: ${text.slice(0, 200)}`;
        const hint =
          response.status === 401 && authorization === undefined
            ? ` (log in first: strata login --server ${server} --username USER --password-stdin)`
            : "";
        throw new CliError(`${message}${hint}`, 1, { status: response.status });
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
