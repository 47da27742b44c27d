// `strata images`, `tag` and `rmi`: the local image store (an OCI layout in the data folder whose
// tags are full references) listed, tagged and cleaned. `rmi` removes names and then the blobs
// only they kept (a container's layers stay while the container does); `system prune` takes
// what is left unreferenced otherwise.
import type { Command } from "commander";
import type { Entry } from "../../remote/index.ts";
import { CliError, usageError } from "../errors.ts";
import { dataDir, localImages, parseImageLocation } from "../images.ts";
import { FILTER_HABITS, refuseHabits } from "../habits.ts";
import type { CliIo } from "../io.ts";
import { printJson, printTable } from "../output.ts";
import { printFormatted, type Fields } from "../row-format.ts";
import { formatBytes } from "../sizes.ts";

interface ImageRow {
  readonly name: string;
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly created: string | undefined;
  readonly size: number;
}

/** The store's tags (in index order), as a list command shows them. */
async function imageRows(io: CliIo): Promise<ImageRow[]> {
  const { createLayoutEndpoint, describe, layoutTags } = await import("../../remote/index.ts");
  const store = localImages(io.env);
  const endpoint = createLayoutEndpoint(store);
  const rows: ImageRow[] = [];
  for (const { tag, entry } of await layoutTags(store)) {
    const at = tag.search(/[:@][^:/@]*$/);
    const d = await describe(endpoint, entry, { referrers: false }).catch(() => undefined);
    rows.push({
      name: tag,
      repository: at < 0 ? tag : tag.slice(0, at),
      tag: at < 0 ? "" : tag.slice(at + 1),
      digest: entry.digest,
      mediaType: entry.mediaType,
      created: (d?.config as { created?: string } | undefined)?.created,
      size: d?.size ?? 0,
    });
  }
  return rows;
}

/** The store's tags an argument names: a name, or a manifest digest (every tag of it). */
function tagsNamed(arg: string, tags: readonly { tag: string; entry: Entry }[]): string[] {
  if (/^sha256:[0-9a-f]{64}$/.test(arg)) return tags.filter((t) => t.entry.digest === arg).map((t) => t.tag);
  const ref = parseImageLocation(arg, "image");
  if (ref.kind === "layout")
    throw usageError(`Invalid image "${arg}": rmi removes names from the local store, not layout tags`);
  return tags.some((t) => t.tag === ref.local) ? [ref.local] : [];
}

export function registerImages(program: Command, io: CliIo): void {
  const images = program
    .command("images")
    .description("List the images of the local store")
    .option("-a, --all", "accepted for docker's habit: every image is listed anyway")
    .option("--digests", "accepted for docker's habit: digests are always shown")
    .option("-q, --quiet", "print only the manifest digests")
    .option(
      "--format <template>",
      "a Go template subset: {{.Repository}}, {{.Tag}}, {{.Digest}}, {{json .}}, table …",
    )
    .option("--json", "print JSON")
    .action(async (flags: { quiet?: boolean; format?: string; json?: boolean }) => {
      const rows = await imageRows(io);
      if (flags.json === true) printJson(io, rows);
      else if (flags.quiet === true)
        for (const d of new Set(rows.map((r) => r.digest))) io.stdout.write(`${d}\n`);
      else if (flags.format !== undefined) {
        const fields: Fields<ImageRow> = {
          Repository: (r) => r.repository,
          Tag: (r) => r.tag,
          Name: (r) => r.name,
          Digest: (r) => r.digest,
          ID: (r) => r.digest.slice(7, 19),
          CreatedAt: (r) => r.created ?? "",
          Size: (r) => formatBytes(r.size),
          MediaType: (r) => r.mediaType,
        };
        printFormatted(io, flags.format, fields, rows, (r) => r);
      } else
        printTable(
          io,
          [
            ["REPOSITORY", (r) => r.repository],
            ["TAG", (r) => r.tag],
            ["DIGEST", (r) => r.digest.slice(0, 19)],
            ["CREATED", (r) => r.created?.slice(0, 19)],
            ["SIZE", (r) => formatBytes(r.size)],
          ],
          rows,
        );
    });

  refuseHabits(images, FILTER_HABITS);

  program
    .command("tag <source> <target>")
    .description("Give an image of the local store another name (SOURCE: a name or a manifest digest)")
    .action(async (sourceText: string, targetText: string) => {
      const target = parseImageLocation(targetText, "target");
      if (target.kind === "layout")
        throw usageError(
          `Invalid target "${targetText}": strata copy ${sourceText} ${targetText} writes a layout`,
        );
      if (target.reference.digest !== undefined)
        throw usageError(`Invalid target "${targetText}": a name takes a tag, not a digest`);
      const { layoutTags, setTag } = await import("../../remote/index.ts");
      const store = localImages(io.env);
      const tags = await layoutTags(store);
      const found = tags.find((t) => t.tag === tagsNamed(sourceText, tags)[0]);
      if (found === undefined)
        throw new CliError(`No image "${sourceText}" in the local store (strata images lists them)`);
      const { annotations: _name, ...entry } = found.entry;
      await setTag(store, target.local, entry);
      io.stdout.write(`Tagged ${found.tag} as ${target.local}\n`);
    });

  program
    .command("rmi <image...>")
    .description(
      "Remove names from the local store, and the blobs only they kept (IMAGE: a name or a manifest digest)",
    )
    .option("-f, --force", "remove names that containers were started from too (their layers stay)")
    .option("--json", "print what was removed as JSON")
    .action(async (args: string[], flags: { force?: boolean; json?: boolean }) => {
      const { layoutTags, pruneLayout, reachable } = await import("../../remote/index.ts");
      const store = localImages(io.env);
      const tags = await layoutTags(store);
      // Every name is checked before anything is removed.
      const names = new Set<string>();
      for (const arg of args) {
        const found = tagsNamed(arg, tags);
        if (found.length === 0)
          throw new CliError(`No image "${arg}" in the local store (strata images lists them)`);
        for (const t of found) names.add(t);
      }
      const { listContainers } = await import("../../run/index.ts");
      const containers = await listContainers(dataDir(io.env));
      const user = containers.find((c) => names.has(c.image));
      if (user !== undefined && flags.force !== true)
        throw new CliError(
          `Image "${user.image}" is used by container "${user.name}": strata rm ${user.name} first, or strata rmi -f`,
        );
      const report = await pruneLayout(store, {
        tags: [...names],
        only: (await reachable(store)).blobs,
        keep: new Set(containers.flatMap((c) => c.layers.map((l) => l.digest))),
      });
      if (flags.json === true)
        printJson(io, { untagged: [...names], deleted: report.removed, bytes: report.bytes });
      else {
        for (const name of names) io.stdout.write(`Untagged ${name}\n`);
        io.stdout.write(`Deleted ${report.removed.length} blobs (${formatBytes(report.bytes)})\n`);
      }
    });
}
