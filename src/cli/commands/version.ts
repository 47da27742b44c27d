// `strata version publish|list|show|latest|set`: immutable versions pinned to pushed content;
// deprecate, revoke, delete and restore are in version-lifecycle.ts.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import {
  defined,
  imagePath,
  parseImageRef,
  parseVersionRef,
  registryReference,
  versionPath,
} from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printObject, printTable, show } from "../output.ts";
import { keyForSign, signInRegistry } from "../sign-content.ts";
import { formatBytes } from "../sizes.ts";
import { type Version, versionName as name } from "./version-answer.ts";
import { registerVersionLifecycle } from "./version-lifecycle.ts";
import { progressText } from "./replicate.ts";

async function readChangelog(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw usageError(
      `Cannot read --changelog-file "${file}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** The computed changes in one readable line. */
function changesLine(c: NonNullable<Version["changes"]>): string {
  const parts = [
    c.packages === undefined
      ? undefined
      : `packages +${c.packages.added} -${c.packages.removed} ~${c.packages.upgraded} upgraded${c.packages.downgraded > 0 ? `, ${c.packages.downgraded} downgraded` : ""}`,
    c.files === undefined ? undefined : `files +${c.files.added} -${c.files.removed} ~${c.files.changed}`,
    c.config === undefined || c.config.length === 0 ? undefined : `config: ${c.config.join(", ")}`,
  ].filter((p): p is string => p !== undefined);
  return `since ${c.against.version ?? c.against.digest}: ${parts.join("; ") || "nothing"}`;
}

/** A version's fields for `key: value` lines, its bytes and computed changes in one line each. */
function shownVersion(v: Version): Record<string, unknown> {
  const { bytes, changes, replication, ...rest } = v;
  return {
    ...rest,
    ...(bytes === undefined
      ? {}
      : {
          bytes: `${formatBytes(bytes.total)} total, ${formatBytes(bytes.own)} own, ${formatBytes(bytes.shared)} shared with other versions`,
        }),
    ...(changes === undefined ? {} : { changes: changesLine(changes) }),
    ...(replication === undefined
      ? {}
      : {
          replication: replication
            .map(
              (r) =>
                `${r.site} ${r.state} (${progressText(r)})${r.error === undefined ? "" : `: ${r.error}`}`,
            )
            .join("; "),
        }),
  };
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
    .option(
      "--sign [key]",
      "sign the content in the registry first (a kept key's name or a private key file; default: the key named default)",
    )
    .action(
      async (
        ref: string,
        number: string | undefined,
        flags: ApiFlags & {
          sign?: string | boolean;
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
          flags.changelogFile === undefined ? flags.changelog : await readChangelog(flags.changelogFile);
        const key = await keyForSign(io, flags.sign);
        const client = await clientFor(flags, io.env);
        const from = registryReference(flags.from, client.server);
        if (key !== undefined) {
          const at = from.lastIndexOf("@");
          const colon = from.lastIndexOf(":");
          const split = at >= 0 ? at : colon > from.lastIndexOf("/") ? colon : -1;
          if (split < 0) throw usageError(`--sign: --from "${flags.from}" names no tag or digest`);
          await signInRegistry(
            io,
            key,
            {
              registry: new URL(client.server).host,
              repository: from.slice(0, split),
              reference: from.slice(split + 1),
            },
            `${target.gallery}/${target.image}:${target.version}`,
          );
        }
        const body = {
          version: target.version,
          from,
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

  apiCommand(
    version,
    "show <gallery/name> [version]",
    "Show a version, with its bytes: total, own, and shared with other versions",
  ).action(async (ref: string, number: string | undefined, flags: ApiFlags) => {
    const answer = await (
      await clientFor(flags, io.env)
    ).call("GET", versionPath(parseVersionRef(ref, number)));
    show(io, flags, answer.body as Version, (v) => printObject(io, shownVersion(v)));
  });

  apiCommand(
    version,
    "changes <gallery/name> [version]",
    "What changed since the previous version (packages, files, config), computed on publish",
  )
    .option("--markdown", "print it as Markdown")
    .action(async (ref: string, number: string | undefined, flags: ApiFlags & { markdown?: boolean }) => {
      const answer = await (
        await clientFor(flags, io.env)
      ).call("GET", `${versionPath(parseVersionRef(ref, number))}/changes`);
      const { renderMarkdown, renderText } = await import("../../diff/index.ts");
      const diff = answer.body as Parameters<typeof renderText>[0];
      show(io, flags, diff, (d) =>
        io.stdout.write(flags.markdown === true ? renderMarkdown(d) : renderText(d)),
      );
    });

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

  registerVersionLifecycle(version, io);
}
