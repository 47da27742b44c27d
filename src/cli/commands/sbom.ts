// `strata sbom REF`: the SBOM of an image — the one a build attached (an in-toto SPDX 2.3 or
// CycloneDX 1.6 statement among its referrers), or, when none is attached, one computed from
// the image's layers (said on stderr). REF is a name in the local store (else at its registry,
// without pulling into the store), oci-layout:PATH:TAG, or a registry reference.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { isIndex, isImageManifest } from "../../oci/index.ts";
import type { Endpoint, Entry } from "../../remote/index.ts";
import type { SbomFormat } from "../../sbom/index.ts";
import { parseChoice } from "../args.ts";
import { localPlace, registryPlace, type Place } from "../endpoints.ts";
import { CliError } from "../errors.ts";
import { parseImageLocation } from "../images.ts";
import type { CliIo } from "../io.ts";
import { hostPlatform } from "../platform.ts";
import { VERSION } from "../version.ts";

interface SbomFlags {
  format?: string;
  output?: string;
  insecure?: boolean;
}

interface ManifestJson {
  config?: Entry;
  layers?: Entry[];
  manifests?: (Entry & { platform?: { os: string; architecture: string; variant?: string } })[];
}

const parseJson = (bytes: Buffer, what: string): ManifestJson => {
  try {
    return JSON.parse(bytes.toString("utf8")) as ManifestJson;
  } catch (error) {
    throw new CliError(`${what} is not JSON`, 1, { cause: error });
  }
};

/** The image manifest `entry` names: itself, or this machine's platform of an index. */
async function imageEntry(endpoint: Endpoint, entry: Entry, name: string): Promise<Entry> {
  if (isImageManifest(entry.mediaType)) return entry;
  if (!isIndex(entry.mediaType))
    throw new CliError(`${name} is not an image (media type ${entry.mediaType})`);
  const index = parseJson(await endpoint.readManifest(entry.digest), `${name}'s index`);
  const host = hostPlatform();
  const child = index.manifests?.find(
    (m) => m.platform?.os === host.os && m.platform.architecture === host.architecture,
  );
  if (child === undefined) throw new CliError(`${name} has no image for ${host.os}/${host.architecture}`);
  return child;
}

/** The SBOM computed from the image's layers (fetched to a scratch folder when not local). */
async function computeSbom(
  endpoint: Endpoint,
  image: Entry,
  name: string,
  format: SbomFormat,
): Promise<Record<string, unknown>> {
  const sbom = await import("../../sbom/index.ts");
  const manifest = parseJson(await endpoint.readManifest(image.digest), `${name}'s manifest`);
  const scratch = await mkdtemp(join(tmpdir(), "strata-sbom-"));
  try {
    const local = async (d: Entry, file: string): Promise<string> => {
      const path = await endpoint.blobFile(d);
      if (path !== undefined) return path;
      await endpoint.fetchBlob(d, join(scratch, file));
      return join(scratch, file);
    };
    let created: string | undefined;
    if (manifest.config !== undefined) {
      const { readFile } = await import("node:fs/promises");
      const config = JSON.parse(await readFile(await local(manifest.config, "config"), "utf8")) as {
        created?: unknown;
      };
      if (typeof config.created === "string") created = config.created;
    }
    const layers = [];
    for (const [i, layer] of (manifest.layers ?? []).entries())
      layers.push({ path: await local(layer, `layer-${i}`), digest: layer.digest });
    const inventory = await sbom.catalogLayers(layers, { name });
    return sbom.sbomDocument(format, inventory, {
      name,
      digest: image.digest,
      ...(created === undefined ? {} : { created }),
      tool: `strata-${VERSION}`,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export function registerSbom(program: Command, io: CliIo): void {
  program
    .command("sbom <image>")
    .description(
      "Print an image's SBOM: the SPDX 2.3 or CycloneDX 1.6 document attached to it, else one computed from its layers; a name in the local store (else at its registry), oci-layout:PATH:TAG or a registry reference",
    )
    .option("--format <format>", "spdx or cyclonedx", "spdx")
    .option("-o, --output <file>", "write the document to this file instead of standard output")
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .action(async (text: string, flags: SbomFlags) => {
      const format = parseChoice("--format", flags.format, ["spdx", "cyclonedx"] as const) ?? "spdx";
      const { findAttachedSbom } = await import("../../sbom/index.ts");
      const { RemoteError } = await import("../../remote/index.ts");
      const ref = parseImageLocation(text, "image");
      let place: Place = await localPlace(ref, io.env);
      let entry = await place.endpoint.resolve(place.reference).catch((error: unknown) => {
        const fallBack = ref.kind === "name" && ref.reference.registry !== undefined;
        const missing = (e: unknown) => e instanceof RemoteError && e.status === 404;
        if (fallBack && (missing(error) || missing((error as Error).cause))) return undefined;
        throw error;
      });
      if (entry === undefined) {
        place = await registryPlace(ref, io.env, flags.insecure === true, "image");
        entry = await place.endpoint.resolve(place.reference);
      }
      const image = await imageEntry(place.endpoint, entry, place.name);
      const stored = await findAttachedSbom(place.endpoint, image.digest, format);
      let document: Record<string, unknown>;
      if (stored !== undefined) document = stored.document;
      else {
        io.stderr.write(
          `No ${format} SBOM is attached to ${place.name}: computing it from the image's layers\n`,
        );
        document = await computeSbom(place.endpoint, image, place.name, format);
      }
      const json = `${JSON.stringify(document, null, 2)}\n`;
      if (flags.output === undefined) io.stdout.write(json);
      else await writeFile(flags.output, json);
    });
}
