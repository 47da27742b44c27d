// `strata image define|list|show`: image definitions and their typed metadata.
import type { Command } from "commander";
import { clientFor } from "../api-client.ts";
import { type ApiFlags, apiCommand } from "../api-command.ts";
import { BOOT_MODES, GENERATIONS, KINDS } from "../api-values.ts";
import {
  collect,
  defined,
  galleryPath,
  imagePath,
  parseChoice,
  parseImageRef,
  parseInteger,
  parsePairs,
} from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printObject, printTable, show } from "../output.ts";

interface Definition extends Record<string, unknown> {
  repository: string;
  kind: string;
  os?: string;
  arch?: string;
  description?: string;
}

interface DefineFlags extends ApiFlags {
  kind: string;
  os?: string;
  arch?: string;
  description?: string;
  publisher?: string;
  owner?: string;
  releaseNotes?: string;
  label?: string[];
  generation?: string;
  bootMode?: string;
  secureBoot?: boolean;
  vcpus?: string;
  memoryMib?: string;
  replicateTo?: string;
  rebuildDays?: string;
  keepLast?: string;
  deprecateAfterDays?: string;
  deleteAfterEolDays?: string;
  deleteUnusedDays?: string;
}

type LifecycleFlags = Pick<
  DefineFlags,
  | "replicateTo"
  | "rebuildDays"
  | "keepLast"
  | "deprecateAfterDays"
  | "deleteAfterEolDays"
  | "deleteUnusedDays"
>;

/** The replication, staleness and retention flags shared by define and update. */
function withLifecycleOptions(command: Command): Command {
  return command
    .option("--replicate-to <sites>", "comma-separated sites new versions are replicated to")
    .option("--rebuild-days <n>", "versions built longer ago count as stale")
    .option("--keep-last <n>", "retention: keep only the newest N published versions")
    .option("--deprecate-after-days <n>", "retention: deprecate N days after publication")
    .option("--delete-after-eol-days <n>", "retention: delete N days after end of life")
    .option("--delete-unused-days <n>", "retention: delete when not pulled for N days");
}

function lifecycleBody(flags: LifecycleFlags): Record<string, unknown> {
  const retention = defined({
    keepLast: parseInteger("--keep-last", flags.keepLast),
    deprecateAfterDays: parseInteger("--deprecate-after-days", flags.deprecateAfterDays),
    deleteAfterEolDays: parseInteger("--delete-after-eol-days", flags.deleteAfterEolDays),
    deleteUnusedDays: parseInteger("--delete-unused-days", flags.deleteUnusedDays),
  });
  return {
    ...defined({
      replicateTo:
        flags.replicateTo === undefined
          ? undefined
          : flags.replicateTo
              .split(",")
              .map((site) => site.trim())
              .filter((site) => site !== ""),
      rebuildDays: parseInteger("--rebuild-days", flags.rebuildDays),
    }),
    ...(Object.keys(retention).length === 0 ? {} : { retention }),
  };
}

export function registerImage(program: Command, io: CliIo): void {
  const image = program
    .command("image")
    .description("Image definitions: the repositories of a gallery, with typed metadata");

  const define = apiCommand(image, "define <gallery/name>", "Define an image in a gallery (publisher)")
    .requiredOption("--kind <kind>", "container | vm")
    .option("--os <os>", "operating system, e.g. linux")
    .option("--arch <arch>", "architecture, e.g. amd64")
    .option("--description <text>", "what the image is")
    .option("--publisher <name>", "who publishes it")
    .option("--owner <name>", "who owns it")
    .option("--release-notes <url>", "release notes URL")
    .option("--label <key=value>", "a label; repeatable", collect)
    .option("--generation <gen>", "vm: hypervisor generation v1 | v2")
    .option("--boot-mode <mode>", "vm: bios | uefi")
    .option("--secure-boot", "vm: secure boot on")
    .option("--vcpus <n>", "vm: recommended vCPUs")
    .option("--memory-mib <n>", "vm: recommended memory in MiB");
  withLifecycleOptions(define).action(async (ref: string, flags: DefineFlags) => {
    const { gallery, image: name } = parseImageRef(ref);
    const vm = defined({
      generation: parseChoice("--generation", flags.generation, GENERATIONS),
      bootMode: parseChoice("--boot-mode", flags.bootMode, BOOT_MODES),
      secureBoot: flags.secureBoot,
      recommendedVcpus: parseInteger("--vcpus", flags.vcpus),
      recommendedMemoryMiB: parseInteger("--memory-mib", flags.memoryMib),
    });
    const body = {
      name,
      kind: parseChoice("--kind", flags.kind, KINDS),
      ...defined({
        os: flags.os,
        arch: flags.arch,
        description: flags.description,
        publisher: flags.publisher,
        owner: flags.owner,
        releaseNotesUrl: flags.releaseNotes,
        labels: parsePairs("--label", flags.label),
      }),
      ...(Object.keys(vm).length === 0 ? {} : { vm }),
      ...lifecycleBody(flags),
    };
    const answer = await (
      await clientFor(flags, io.env)
    ).call("POST", `${galleryPath(gallery)}/images`, body);
    show(io, flags, answer.body as Definition, (d) =>
      io.stdout.write(`Defined ${d.repository} (${d.kind})\n`),
    );
  });

  apiCommand(image, "list <gallery>", "List the image definitions of a gallery").action(
    async (gallery: string, flags: ApiFlags) => {
      const answer = await (await clientFor(flags, io.env)).call("GET", `${galleryPath(gallery)}/images`);
      show(io, flags, answer.body as Definition[], (rows) =>
        printTable(
          io,
          [
            ["IMAGE", (d: Definition) => d.repository],
            ["KIND", (d: Definition) => d.kind],
            ["OS/ARCH", (d: Definition) => (d.os === undefined ? undefined : `${d.os}/${d.arch ?? "-"}`)],
            ["DESCRIPTION", (d: Definition) => d.description],
          ],
          rows,
        ),
      );
    },
  );

  apiCommand(image, "show <gallery/name>", "Show an image definition").action(
    async (ref: string, flags: ApiFlags) => {
      const answer = await (await clientFor(flags, io.env)).call("GET", imagePath(parseImageRef(ref)));
      show(io, flags, answer.body as Definition, (d) => printObject(io, d));
    },
  );

  withLifecycleOptions(
    apiCommand(
      image,
      "update <gallery/name>",
      "Change a definition's replication targets, rebuild cadence or retention (publisher)",
    ),
  ).action(async (ref: string, flags: LifecycleFlags & ApiFlags) => {
    const body = lifecycleBody(flags);
    if (Object.keys(body).length === 0) throw usageError("Nothing to change: give at least one option");
    const answer = await (await clientFor(flags, io.env)).call("PATCH", imagePath(parseImageRef(ref)), body);
    show(io, flags, answer.body as Definition, (d) => io.stdout.write(`Updated ${d.repository}\n`));
  });

  apiCommand(
    image,
    "delete <gallery/name>",
    "Remove an image definition that has no versions (admin)",
  ).action(async (ref: string, flags: ApiFlags) => {
    const answer = await (await clientFor(flags, io.env)).call("DELETE", imagePath(parseImageRef(ref)));
    show(io, flags, answer.body as Definition, (d) => io.stdout.write(`Removed ${d.repository}\n`));
  });
}
