// The `run` point of the server's policies, for `strata run` and `strata vm run`: an image or disk
// named by a registry that is a Strata server is decided by that server (POST /api/v1/policy/check,
// point "run") before it runs — refused with the reasons on deny, warnings printed on warn. An
// image of a local layout, one without a registry, or of a registry that is not a Strata server
// is not checked: a server's policies apply to what the server serves.
import { isLoopbackRegistry } from "../remote/index.ts";
import { createApiClient } from "./api-client.ts";
import { checkReferences } from "./commands/policy.ts";
import { loadCredentials } from "./credentials.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

const PROBE_TIMEOUT_MS = 5000;

/** The base URL of the Strata server at `registry`, or undefined when it is not one (or cannot be reached). */
async function strataServer(registry: string, insecure: boolean): Promise<string | undefined> {
  const schemes = insecure || isLoopbackRegistry(registry) ? ["https", "http"] : ["https"];
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

/** Asks the Strata server at `registry` whether `reference` may run; throws when it is denied. */
export async function checkRunPolicy(
  io: CliIo,
  registry: string | undefined,
  reference: string,
  options: { readonly insecure: boolean },
): Promise<void> {
  if (registry === undefined) return;
  const server = await strataServer(registry, options.insecure);
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
