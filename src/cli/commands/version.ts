// `strata version publish|list|show|latest|set|deprecate|revoke|delete|restore`: immutable
// versions and their lifecycle.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { defined, imagePath, parseImageRef, parseVersionRef, versionPath } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printObject, printTable, show } from "../output.ts";

interface Version extends Record<string, unknown> {
  gallery: string;
  image: string;
  version: string;
  digest: string;
  state: string;
  eol?: string;
  excludeFromLatest: boolean;
  createdAt: string;
  publishedBy: string;
}

const name = (v: Version): string => `${v.gallery}/${v.image}:${v.version}`;

/** `builds/web:1` as given, or without the server's host when it starts with it. */
function localReference(from: string, server: string): string {
  const host = new URL(server).host;
  return from.startsWith(`${host}/`) ? from.slice(host.length + 1) : from;
}

export function registerVersion(program: Command, io: CliIo): void {
  const version = program
    .command("version")
    .description("Image versions: immutable, pinned to one digest, with a lifecycle");
  const one = (flags: ApiFlags, v: Version) => show(io, flags, v, (x) => printObject(io, x));

  apiCommand(
    version,
    "publish <gallery/name> [version]",
    "Publish a version pinning the content --from names (publisher)",
  )
    .option(
      "--from <ref>",
      "the content: a reference in this registry (builds/web:ci-42, builds/web@sha256:…, test/web:1.2.0)",
    )
    .option("--changelog <text>", "what changed")
    .option("--changelog-file <file>", "read the changelog from a file")
    .option("--build-id <id>", "the build that made it")
    .option("--source-revision <rev>", "the source revision it was built from")
    .option("--owner <name>", "who owns this version")
    .option("--eol <date>", "end of life: a date (2027-06-30) or an RFC 3339 date-time")
    .option("--exclude-from-latest", "never resolve latest to this version")
    .action(
      async (
        ref: string,
        number: string | undefined,
        flags: ApiFlags & {
          from?: string;
          changelog?: string;
          changelogFile?: string;
          buildId?: string;
          sourceRevision?: string;
          owner?: string;
          eol?: string;
          excludeFromLatest?: boolean;
        },
      ) => {
        const target = parseVersionRef(ref, number);
        if (flags.from === undefined)
          throw usageError("Missing --from: name the content to publish, e.g. --from builds/web:ci-42");
        if (flags.changelog !== undefined && flags.changelogFile !== undefined) {
          throw usageError("Give the changelog with one of --changelog and --changelog-file");
        }
        const changelog =
          flags.changelogFile === undefined ? flags.changelog : await readFile(flags.changelogFile, "utf8");
        const client = await clientFor(flags, io.env);
        const body = {
          version: target.version,
          from: localReference(flags.from, client.server),
          ...defined({
            changelog,
            buildId: flags.buildId,
            sourceRevision: flags.sourceRevision,
            owner: flags.owner,
            eol: flags.eol,
            excludeFromLatest: flags.excludeFromLatest,
          }),
        };
        const answer = await client.call("POST", `${imagePath(target)}/versions`, body);
        show(io, flags, answer.body as Version, (v) =>
          io.stdout.write(
            answer.status === 201
              ? `Published ${name(v)} (${v.digest})\n`
              : `${name(v)} was already published with this content (${v.digest}); nothing changed\n`,
          ),
        );
      },
    );

  apiCommand(version, "list <gallery/name>", "List the versions of an image, highest first")
    .option("--deleted", "include deleted versions")
    .action(async (ref: string, flags: ApiFlags & { deleted?: boolean }) => {
      const query = flags.deleted === true ? "?deleted=true" : "";
      const answer = await (
        await clientFor(flags, io.env)
      ).call("GET", `${imagePath(parseImageRef(ref))}/versions${query}`);
      show(io, flags, answer.body as Version[], (rows) =>
        printTable(
          io,
          [
            ["VERSION", (v: Version) => v.version],
            ["STATE", (v: Version) => v.state],
            ["DIGEST", (v: Version) => `${v.digest.slice(0, 19)}…`],
            ["EOL", (v: Version) => v.eol?.slice(0, 10)],
            ["LATEST", (v: Version) => (v.excludeFromLatest ? "excluded" : "")],
            ["PUBLISHED", (v: Version) => `${v.createdAt.slice(0, 19)}Z by ${v.publishedBy}`],
          ],
          rows,
        ),
      );
    });

  apiCommand(version, "show <gallery/name> [version]", "Show a version").action(
    async (ref: string, number: string | undefined, flags: ApiFlags) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("GET", versionPath(parseVersionRef(ref, number)));
      one(flags, answer.body as Version);
    },
  );

  apiCommand(version, "latest <gallery/name>", "Show the version latest resolves to").action(
    async (ref: string, flags: ApiFlags) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("GET", `${imagePath(parseImageRef(ref))}/latest`);
      one(flags, answer.body as Version);
    },
  );

  apiCommand(
    version,
    "set <gallery/name> [version]",
    "Change a version's EOL date or exclude-from-latest (publisher)",
  )
    .option("--eol <date>", "end of life: a date or an RFC 3339 date-time")
    .option("--no-eol", "remove the end-of-life date")
    .option("--exclude-from-latest", "never resolve latest to this version")
    .option("--include-in-latest", "let latest resolve to this version again")
    .action(
      async (
        ref: string,
        number: string | undefined,
        flags: ApiFlags & { eol?: string | false; excludeFromLatest?: boolean; includeInLatest?: boolean },
      ) => {
        const target = parseVersionRef(ref, number);
        if (flags.excludeFromLatest === true && flags.includeInLatest === true) {
          throw usageError("Give one of --exclude-from-latest and --include-in-latest");
        }
        const body = defined({
          eol: flags.eol === false ? null : flags.eol,
          excludeFromLatest:
            flags.excludeFromLatest === true ? true : flags.includeInLatest === true ? false : undefined,
        });
        if (Object.keys(body).length === 0)
          throw usageError(
            "Nothing to change: give --eol, --no-eol, --exclude-from-latest or --include-in-latest",
          );
        const answer = await (await clientFor(flags, io.env)).call("PATCH", versionPath(target), body);
        one(flags, answer.body as Version);
      },
    );

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
            const at = (v.revocation as { at?: string } | undefined)?.at;
            io.stdout.write(
              `Revoked ${name(v)}${v.state === "revoked" ? "" : ` (takes effect at ${at ?? "-"})`}\n`,
            );
          }
          for (const s of r.skipped)
            io.stdout.write(`Skipped ${s.gallery}/${s.image}:${s.version}: you are no publisher there\n`);
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
      show(io, flags, answer.body as Version & { deletion?: { restorableUntil: string } }, (v) =>
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
