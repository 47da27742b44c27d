// `strata key generate | list | import | expire | public`: ECDSA P-256 signing keys kept in the
// keys folder (sign-keys.ts), private keys encrypted in cosign's format, each with an optional
// not-after date after which it signs nothing (docs/supply-chain.md).
import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import type { Command } from "commander";
import type { KeyRecord } from "../../sign/index.ts";
import type { CliIo } from "../io.ts";
import { printJson, printTable } from "../output.ts";
import { keyring, passphraseSource, withSignErrors } from "../sign-keys.ts";

const expired = (r: KeyRecord, now: Date): boolean =>
  r.notAfter !== undefined && now.getTime() > Date.parse(r.notAfter);

function printRecord(io: CliIo, verb: string, r: KeyRecord): void {
  io.stdout.write(
    `${verb} key ${r.name} (id ${r.keyId})${r.notAfter === undefined ? "" : `, not after ${r.notAfter}`}\n` +
      `  private key: ${r.privateKeyFile}\n  public key:  ${r.publicKeyFile}\n`,
  );
}

async function notAfterOf(text: string | undefined): Promise<Date | undefined> {
  if (text === undefined) return undefined;
  const { parseNotAfter } = await import("../../sign/index.ts");
  return parseNotAfter(text);
}

export function registerKey(program: Command, io: CliIo): void {
  const key = program
    .command("key")
    .description("Signing keys (ECDSA P-256, kept encrypted in cosign's format)");

  key
    .command("generate [name]")
    .description(
      "Generate a key pair (default name: default); the passphrase comes from STRATA_KEY_PASSWORD, COSIGN_PASSWORD or standard input",
    )
    .option(
      "--not-after <date>",
      "the key signs nothing after this date (YYYY-MM-DD: the end of that day, UTC)",
    )
    .option("--json", "print the key's record as JSON")
    .action((name: string | undefined, flags: { notAfter?: string; json?: boolean }) =>
      withSignErrors(async () => {
        const { checkKeyName } = await import("../../sign/index.ts");
        const chosen = checkKeyName(name ?? "default");
        const notAfter = await notAfterOf(flags.notAfter);
        const passphrase = await passphraseSource(io)();
        const record = await (
          await keyring(io.env)
        ).generate(chosen, passphrase, notAfter === undefined ? {} : { notAfter });
        if (flags.json === true) printJson(io, record);
        else printRecord(io, "Generated", record);
      }),
    );

  key
    .command("import <file>")
    .description(
      "Keep a P-256 private key people bring (cosign's, or PKCS#8 or SEC1 PEM as openssl writes them, encrypted or not), re-encrypted with the passphrase",
    )
    .option("--name <name>", "the name to keep it under (default: the file's name without extension)")
    .option("--not-after <date>", "the key signs nothing after this date")
    .option("--json", "print the key's record as JSON")
    .action((file: string, flags: { name?: string; notAfter?: string; json?: boolean }) =>
      withSignErrors(async () => {
        const { checkKeyName } = await import("../../sign/index.ts");
        const name = checkKeyName(flags.name ?? basename(file, extname(file)));
        const notAfter = await notAfterOf(flags.notAfter);
        const pem = await readFile(file, "utf8");
        const passphrase = passphraseSource(io);
        const record = await (
          await keyring(io.env)
        ).importKey(name, pem, passphrase, await passphrase(), {
          what: `key file "${file}"`,
          ...(notAfter === undefined ? {} : { notAfter }),
        });
        if (flags.json === true) printJson(io, record);
        else printRecord(io, "Imported", record);
      }),
    );

  key
    .command("list")
    .description("List the kept keys: name, key id, created, not-after and whether it has passed")
    .option("--json", "print the keys as JSON")
    .action((flags: { json?: boolean }) =>
      withSignErrors(async () => {
        const records = await (await keyring(io.env)).list();
        const now = new Date();
        if (flags.json === true) {
          printJson(
            io,
            records.map((r) => ({ ...r, expired: expired(r, now) })),
          );
          return;
        }
        printTable(
          io,
          [
            ["NAME", (r) => r.name],
            ["KEY ID", (r) => r.keyId],
            ["CREATED", (r) => r.created],
            ["NOT AFTER", (r) => r.notAfter],
            ["EXPIRED", (r) => (expired(r, now) ? "yes" : "no")],
          ],
          records,
        );
      }),
    );

  key
    .command("expire <name> <date>")
    .description(
      "Set a key's not-after date: it signs nothing after it; what it signed before still verifies",
    )
    .action((name: string, date: string) =>
      withSignErrors(async () => {
        const notAfter = await notAfterOf(date);
        if (notAfter === undefined) return;
        const record = await (await keyring(io.env)).expire(name, notAfter);
        io.stdout.write(
          `Key ${record.name} (id ${record.keyId}) signs nothing after ${record.notAfter ?? ""}\n`,
        );
      }),
    );

  key
    .command("public <name>")
    .description("Print a kept key's public key (PEM), what verifiers are given")
    .action((name: string) =>
      withSignErrors(async () => {
        const record = await (await keyring(io.env)).get(name);
        io.stdout.write(await readFile(record.publicKeyFile, "utf8"));
      }),
    );
}
