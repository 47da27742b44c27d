// The `run` point of the server's policies, for `strata run` and `strata vm run`: an image or disk
// named by a registry that is a Strata server is decided by that server (POST /api/v1/policy/check,
// point "run") before it runs — refused with the reasons on deny, warnings printed on warn. An
// image of a local layout, one without a registry, or of a registry that is not a Strata server
// is not checked: a server's policies apply to what the server serves.
//
// Whether a registry is a Strata server is known without asking when it is the server the user
// configured (`--server`, else $STRATA_SERVER); any other registry is asked once per process
// (GET /api/v1/whoami), and the answer — a Strata server or not — is kept for the process's
// lifetime, so a registry that is not a Strata server is not asked again.
import { isLoopbackRegistry } from "../remote/index.ts";
import { createApiClient } from "./api-client.ts";
import { checkReferences } from "./commands/policy.ts";
import { loadCredentials } from "./credentials.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

const PROBE_TIMEOUT_MS = 5000;

/** Probe answers of this process, by the schemes tried and the registry. */
const probed = new Map<string, Promise<string | undefined>>();

/** The base URL of the Strata server at `registry`, or undefined when it is not one (or cannot be reached). */
async function probe(registry: string, schemes: readonly string[]): Promise<string | undefined> {
  for (const scheme of schemes) {
    const base = `${scheme}://${registry}`;
    try {
      const res = await fetch(`${base}/api/v1/whoami`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const body = (await res.json().catch(() => undefined)) as { authentication?: unknown } | undefined;
      return res.ok && typeof body?.authentication === "boolean" ? base : undefined;
    } catch {
      // Not this scheme (or not reachable): the next one, else not a Strata server.
    }
  }
  return undefined;
}

/**
 * The configured Strata server's base URL when `registry` is its host and its scheme is one the
 * probe would try; undefined otherwise (no server configured, another host, a URL with a path).
 */
function configuredServer(
  registry: string,
  schemes: readonly string[],
  configured: string | undefined,
): string | undefined {
  if (configured === undefined || configured === "" || !URL.canParse(configured)) return undefined;
  const url = new URL(configured);
  const scheme = url.protocol.slice(0, -1);
  const plain =
    url.pathname === "/" &&
    url.search === "" &&
    url.hash === "" &&
    url.username === "" &&
    url.password === "";
  return plain && url.host === registry && schemes.includes(scheme) ? `${scheme}://${url.host}` : undefined;
}

/** The base URL of the Strata server at `registry`, or undefined when it is not one. */
async function strataServer(
  registry: string,
  insecure: boolean,
  configured: string | undefined,
): Promise<string | undefined> {
  const schemes = insecure || isLoopbackRegistry(registry) ? ["https", "http"] : ["https"];
  const known = configuredServer(registry, schemes, configured);
  if (known !== undefined) return known;
  const key = `${schemes.join("+")} ${registry}`;
  let answer = probed.get(key);
  if (answer === undefined) {
    answer = probe(registry, schemes);
    probed.set(key, answer);
  }
  return answer;
}

/** Asks the Strata server at `registry` whether `reference` may run; throws when it is denied. */
export async function checkRunPolicy(
  io: CliIo,
  registry: string | undefined,
  reference: string,
  options: { readonly insecure: boolean; readonly server?: string },
): Promise<void> {
  if (registry === undefined) return;
  const server = await strataServer(registry, options.insecure, options.server ?? io.env.STRATA_SERVER);
  if (server === undefined) return;
  const client = createApiClient(server, await loadCredentials(io.env, server));
  const [result] = await checkReferences(client, [reference], "run");
  if (result === undefined) throw new CliError(`${server} gave no policy decision for "${reference}"`);
  if (result.outcome === "deny")
    throw new CliError(
      `"${reference}" is refused by the policies of ${server}: ${result.reasons.join("; ")}`,
    );
  for (const reason of result.reasons) io.stderr.write(`Warning: ${reason}\n`);
}
