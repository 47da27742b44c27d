// `strata login` and `strata logout`: check credentials against the server and keep them for
// the gallery commands, per server URL, in a file only the user can read.
import type { Command } from "commander";
import { createApiClient, serverUrl } from "../api-client.ts";
import { isLoopbackRegistry } from "../../remote/index.ts";
import { credentialsFile, removeCredentials, saveCredentials } from "../credentials.ts";
import { CliError, usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { show } from "../output.ts";
import { readAll } from "../read-stdin.ts";

/**
 * The server named as docker names it, `strata login HOST[:PORT]` (or a URL): plain HTTP for a
 * loopback host, HTTPS otherwise; it may not be named twice.
 */
function serverOf(positional: string | undefined, flag: string | undefined): string | undefined {
  if (positional === undefined) return flag;
  if (flag !== undefined)
    throw usageError(`Name the server once: "${positional}" or --server "${flag}", not both`);
  if (/^https?:\/\//i.test(positional)) return positional;
  return `${isLoopbackRegistry(positional) ? "http" : "https"}://${positional}`;
}

export function registerLogin(program: Command, io: CliIo): void {
  program
    .command("login [server]")
    .description(
      "Check a user's credentials with the server and store them for later commands (SERVER: HOST[:PORT] or a URL, as --server)",
    )
    .option("--server <url>", "Strata server (default $STRATA_SERVER or http://127.0.0.1:5000)")
    .requiredOption("-u, --username <name>", "user name")
    .option(
      "-p, --password <password>",
      "password (prefer --password-stdin: arguments are visible to other users)",
    )
    .option("--password-stdin", "read the password from standard input")
    .option("--json", "print the result as JSON")
    .action(
      async (
        positional: string | undefined,
        flags: {
          server?: string;
          username: string;
          password?: string;
          passwordStdin?: boolean;
          json?: boolean;
        },
      ) => {
        if ((flags.password === undefined) === (flags.passwordStdin !== true)) {
          throw usageError("Give the password with exactly one of --password and --password-stdin");
        }
        const password = flags.password ?? (await readAll(io.stdin)).replace(/\r?\n$/, "");
        if (password === "") throw usageError("Empty password");
        const server = serverUrl(serverOf(positional, flags.server), io.env);
        const client = createApiClient(server, { username: flags.username, password });
        const answer = await client.call("GET", "/whoami");
        const body = answer.body as { user?: string | null; authentication?: boolean };
        if (body.authentication === false) {
          throw new CliError(`Server ${server} has authentication off: there is nothing to log in to`);
        }
        if (body.user !== flags.username)
          throw new CliError(`Server ${server} did not accept the credentials of "${flags.username}"`);
        const file = await saveCredentials(io.env, server, { username: flags.username, password });
        show(io, flags, { server, user: flags.username, credentials: file }, (r) =>
          io.stdout.write(`Logged in to ${r.server} as ${r.user} (credentials in ${r.credentials})\n`),
        );
      },
    );

  program
    .command("logout [server]")
    .description("Forget the credentials stored for a server (SERVER: HOST[:PORT] or a URL, as --server)")
    .option("--server <url>", "Strata server (default $STRATA_SERVER or http://127.0.0.1:5000)")
    .option("--json", "print the result as JSON")
    .action(async (positional: string | undefined, flags: { server?: string; json?: boolean }) => {
      const server = serverUrl(serverOf(positional, flags.server), io.env);
      const removed = await removeCredentials(io.env, server);
      show(io, flags, { server, removed }, (r) =>
        io.stdout.write(
          r.removed
            ? `Logged out of ${r.server}\n`
            : `No credentials stored for ${r.server} in ${credentialsFile(io.env)}\n`,
        ),
      );
    });
}
