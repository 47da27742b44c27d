// A command that talks to a Strata server: every one takes --server and --json.
import type { Command } from "commander";

export interface ApiFlags {
  readonly server?: string;
  readonly json?: boolean;
}

export function apiCommand(parent: Command, spec: string, description: string): Command {
  return parent
    .command(spec)
    .description(description)
    .option("--server <url>", "Strata server (default $STRATA_SERVER or http://127.0.0.1:5000)")
    .option("--json", "print the server's JSON answer");
}
