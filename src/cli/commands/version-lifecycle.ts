// `strata version deprecate|revoke|delete|restore`: the lifecycle of a published version.
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { defined, parseVersionRef, versionPath } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { show } from "../output.ts";
import { type Version, versionName as name } from "./version-answer.ts";

/** Adds the lifecycle subcommands to `strata version`. */
export function registerVersionLifecycle(version: Command, io: CliIo): void {
  apiCommand(
    version,
    "deprecate <gallery/name> [version]",
    "Deprecate a version: pulls then warn, naming the replacement",
  )
    .option("--reason <text>", "why")
    .option("--replacement <version>", "the version to use instead (default: latest)")
    .action(
      async (
        ref: string,
        number: string | undefined,
        flags: ApiFlags & { reason?: string; replacement?: string },
      ) => {
        const target = parseVersionRef(ref, number);
        const answer = await (
          await clientFor(flags, io.env)
        ).call(
          "POST",
          `${versionPath(target)}/deprecate`,
          defined({ reason: flags.reason, replacement: flags.replacement }),
        );
        show(io, flags, answer.body as Version, (v) => io.stdout.write(`Deprecated ${name(v)}\n`));
      },
    );

  apiCommand(
    version,
    "revoke <gallery/name> [version]",
    "Revoke a version, now or at a date; pulls are then refused in enforce mode",
  )
    .option("--reason <text>", "why (required)")
    .option("--at <date>", "take effect at this date instead of now")
    .option("--cascade", "also revoke versions built on this one (org.opencontainers.image.base.digest)")
    .action(
      async (
        ref: string,
        number: string | undefined,
        flags: ApiFlags & { reason?: string; at?: string; cascade?: boolean },
      ) => {
        const target = parseVersionRef(ref, number);
        if (flags.reason === undefined || flags.reason.trim() === "")
          throw usageError("Missing --reason: say why the version is revoked");
        const answer = await (
          await clientFor(flags, io.env)
        ).call(
          "POST",
          `${versionPath(target)}/revoke`,
          defined({ reason: flags.reason, at: flags.at, cascade: flags.cascade }),
        );
        const result = answer.body as {
          revoked: Version[];
          skipped: { gallery: string; image: string; version: string }[];
        };
        show(io, flags, result, (r) => {
          for (const v of r.revoked) {
            const later = v.state === "revoked" ? "" : ` (takes effect at ${v.revocation?.at ?? "-"})`;
            io.stdout.write(`Revoked ${name(v)}${later}\n`);
          }
          for (const s of r.skipped) {
            io.stdout.write(`Skipped ${name(s)}: you are not a publisher in gallery ${s.gallery}\n`);
          }
        });
      },
    );

  apiCommand(
    version,
    "delete <gallery/name> [version]",
    "Delete a version (softly: restorable); before its EOL only an admin with --force",
  )
    .option("--force", "delete before the end of life (admin)")
    .action(async (ref: string, number: string | undefined, flags: ApiFlags & { force?: boolean }) => {
      const target = parseVersionRef(ref, number);
      const answer = await (
        await clientFor(flags, io.env)
      ).call("DELETE", `${versionPath(target)}${flags.force === true ? "?force=true" : ""}`);
      show(io, flags, answer.body as Version, (v) =>
        io.stdout.write(`Deleted ${name(v)}; restorable until ${v.deletion?.restorableUntil ?? "-"}\n`),
      );
    });

  apiCommand(version, "restore <gallery/name> [version]", "Restore a deleted version").action(
    async (ref: string, number: string | undefined, flags: ApiFlags) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("POST", `${versionPath(parseVersionRef(ref, number))}/restore`, {});
      show(io, flags, answer.body as Version, (v) => io.stdout.write(`Restored ${name(v)} (${v.state})\n`));
    },
  );
}
