// `strata hash-password`: reads a password (stdin or prompt) and prints its scrypt hash for the
// `auth.users` section of strata.yaml.
import type { Command } from "commander";
import type { CliIo } from "../io.ts";
import { readAll } from "../read-stdin.ts";

export function registerHashPassword(program: Command, io: CliIo): void {
  program
    .command("hash-password")
    .description("Print a password hash for strata.yaml (reads the password from standard input)")
    .action(async () => {
      const input = await readAll(io.stdin);
      const password = input.replace(/\r?\n$/, "");
      if (password.length === 0) throw new Error("No password given on standard input");
      const { hashPassword } = await import("../../registry/index.ts");
      io.stdout.write(`${await hashPassword(password)}\n`);
    });
}
