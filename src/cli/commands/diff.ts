// `strata diff A B`: what changed between two images — packages (from their SBOMs), files (from
// their layers) and config — for any two references: gallery versions on --server
// (GALLERY/NAME:VERSION), registry references, digests, names in the local store and OCI layouts
// (oci-layout:PATH:TAG). A disk artifact is compared through the image it was built from. Nothing
// is pulled: blobs are read where they are.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import type { ContentSource, InventoryOf } from "../../diff/index.ts";
import { serverUrl } from "../api-client.ts";
import { localPlace, registryPlace, type Place } from "../endpoints.ts";
import { CliError, usageError } from "../errors.ts";
import { localImages, parseImageLocation } from "../images.ts";
import type { CliIo } from "../io.ts";
import { parsePlatform } from "../platform.ts";

type Env = Readonly<Record<string, string | undefined>>;

interface DiffFlags {
  server?: string;
  insecure?: boolean;
  json?: boolean;
  markdown?: boolean;
  packages?: boolean;
  files?: boolean;
  config?: boolean;
  maxFiles?: string;
  platform?: string;
}

/**
 * Packages of an image that has no SBOM attached: its layers, fetched where they are not local
 * files, read once by the SBOM catalogers (dpkg, apk, rpm).
 */
export const defaultInventoryOf: InventoryOf = async (image) => {
  const { catalogLayers } = await import("../../sbom/index.ts");
  const scratch = await mkdtemp(join(tmpdir(), "strata-diff-layers-"));
  try {
    const files = [];
    for (const [i, layer] of image.layers.entries()) {
      const path = join(scratch, String(i));
      await pipeline(await layer.open(), createWriteStream(path));
      files.push({ path, digest: layer.digest });
    }
    return await catalogLayers(files, { name: image.name });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** Where a reference's image is: a content source and what to resolve there. */
async function sideOf(
  text: string,
  flags: DiffFlags,
  env: Env,
): Promise<{ source: ContentSource; reference: string; name: string }> {
  const { sourceFromEndpoint } = await import("../../diff/index.ts");
  const { createLayoutEndpoint, RemoteError } = await import("../../remote/index.ts");
  if (DIGEST_RE.test(text))
    return {
      source: sourceFromEndpoint(createLayoutEndpoint(localImages(env), "The local store")),
      reference: text,
      name: text,
    };
  const ref = parseImageLocation(text, "image reference");
  const wrap = (place: Place) => ({
    source: sourceFromEndpoint(place.endpoint),
    reference: place.reference,
    name: text,
  });
  if (ref.kind === "layout") return wrap(await localPlace(ref, env));
  if (ref.reference.registry === undefined && flags.server !== undefined) {
    // A gallery version or repository on the Strata server --server names.
    const host = new URL(serverUrl(flags.server, env)).host;
    const onServer = parseImageLocation(`${host}/${text}`, "image reference");
    return wrap(await registryPlace(onServer, env, flags.insecure === true, "image reference"));
  }
  // The local store first (as inspect), else the registry the name names.
  const local = await localPlace(ref, env);
  const found = await local.endpoint.resolve(local.reference).then(
    () => true,
    (error: unknown) => {
      const missing = (e: unknown) => e instanceof RemoteError && e.status === 404;
      if (missing(error) || missing((error as Error).cause)) return false;
      if (error instanceof CliError && ref.reference.registry === undefined) throw error;
      return false;
    },
  );
  if (found) return wrap(local);
  if (ref.reference.registry === undefined)
    throw new CliError(
      `No image "${text}" in the local store (strata images lists them; for a gallery version give --server)`,
      1,
    );
  return wrap(await registryPlace(ref, env, flags.insecure === true, "image reference"));
}

function maxFilesOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw usageError(`Invalid --max-files "${text}": expected a whole number`);
  return Number(text);
}

export function registerDiff(
  program: Command,
  io: CliIo,
  inventoryOf: InventoryOf = defaultInventoryOf,
): void {
  program
    .command("diff <before> <after>")
    .description(
      "Show what changed between two images or disks: packages (from their SBOMs), files (from their layers) and config; any references (GALLERY/NAME:VERSION with --server, registry names, digests, local names, oci-layout:PATH:TAG)",
    )
    .option("--server <url>", "the Strata server names without a registry are read from (gallery versions)")
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--json", "print the diff as JSON (docs/diff.md describes its shape)")
    .option("--markdown", "print the diff as Markdown")
    .option("--packages", "show packages (with --files and --config: only the sections named)")
    .option("--files", "show files")
    .option("--config", "show config")
    .option("--max-files <n>", "list at most N paths per file list (totals stay exact)")
    .option("--platform <os/arch>", "the platform to take from an image index (default this machine's)")
    .action(async (before: string, after: string, flags: DiffFlags) => {
      if (flags.json === true && flags.markdown === true)
        throw usageError("Give --json or --markdown, not both");
      const maxFiles = maxFilesOf(flags.maxFiles);
      const platform = flags.platform === undefined ? undefined : parsePlatform(flags.platform);
      const some = flags.packages === true || flags.files === true || flags.config === true;
      const sections = some
        ? { packages: flags.packages === true, files: flags.files === true, config: flags.config === true }
        : undefined;
      const a = await sideOf(before, flags, io.env);
      const b = await sideOf(after, flags, io.env);
      const { diffImages, renderMarkdown, renderText } = await import("../../diff/index.ts");
      const diff = await diffImages(a, b, {
        inventoryOf,
        ...(sections === undefined ? {} : { sections }),
        ...(maxFiles === undefined ? {} : { maxFiles }),
        ...(platform === undefined ? {} : { platform }),
      });
      if (flags.json === true) io.stdout.write(`${JSON.stringify(diff, null, 2)}\n`);
      else io.stdout.write(flags.markdown === true ? renderMarkdown(diff) : renderText(diff));
    });
}
