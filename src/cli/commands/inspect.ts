// `strata inspect`: an image or artifact's manifest, config, layers and referrers — from the
// local store (a name), an OCI layout, or, for a name the store lacks, its registry (nothing is
// pulled).
import type { Command } from "commander";
import type { Description } from "../../remote/index.ts";
import { localPlace, registryPlace, type Place } from "../endpoints.ts";
import { parseImageLocation } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson, printObject, printTable } from "../output.ts";
import { formatBytes } from "../sizes.ts";

interface ImageConfigView {
  created?: string;
  author?: string;
  os?: string;
  architecture?: string;
  config?: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string };
}

function printDescription(io: CliIo, name: string, d: Description): void {
  const config = d.config as ImageConfigView | undefined;
  const c = config?.config;
  printObject(io, {
    name,
    digest: d.digest,
    mediaType: d.mediaType,
    ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
    size: `${formatBytes(d.size)} (${d.size} bytes)`,
    ...(config === undefined
      ? {}
      : {
          platform: `${config.os ?? "?"}/${config.architecture ?? "?"}`,
          created: config.created,
          ...(config.author === undefined ? {} : { author: config.author }),
          entrypoint: c?.Entrypoint,
          cmd: c?.Cmd,
          workingDir: c?.WorkingDir || undefined,
          user: c?.User || undefined,
        }),
  });
  if (d.platforms.length > 0) {
    io.stdout.write("\nPlatforms:\n");
    printTable(
      io,
      [
        ["PLATFORM", (p) => p.platform],
        ["DIGEST", (p) => p.digest],
      ],
      d.platforms,
    );
  }
  if (d.layers.length > 0) {
    io.stdout.write("\nLayers:\n");
    printTable(
      io,
      [
        ["DIGEST", (l) => l.digest],
        ["SIZE", (l) => l.size],
        ["MEDIA TYPE", (l) => l.mediaType],
      ],
      d.layers,
    );
  }
  io.stdout.write("\nReferrers:\n");
  printTable(
    io,
    [
      ["DIGEST", (r) => r.digest],
      ["ARTIFACT TYPE", (r) => r.artifactType],
      ["SIZE", (r) => r.size],
    ],
    d.referrers,
  );
}

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command("inspect <image>")
    .description(
      "Show an image's manifest, config, layers and referrers: a name in the local store (else at its registry, without pulling) or oci-layout:PATH:TAG",
    )
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--json", "print the manifest, config, layers and referrers as JSON")
    .action(async (text: string, flags: { insecure?: boolean; json?: boolean }) => {
      const { describe, RemoteError } = await import("../../remote/index.ts");
      const ref = parseImageLocation(text, "image");
      let place: Place = await localPlace(ref, io.env);
      let source = ref.kind === "layout" ? "layout" : "local";
      let entry = await place.endpoint.resolve(place.reference).catch((error: unknown) => {
        const fallBack = ref.kind === "name" && ref.reference.registry !== undefined;
        // Not in the store (the store's "no image" error wraps the layout's 404).
        const missing = (e: unknown) => e instanceof RemoteError && e.status === 404;
        if (fallBack && (missing(error) || missing((error as Error).cause))) return undefined;
        throw error;
      });
      if (entry === undefined) {
        place = await registryPlace(ref, io.env, flags.insecure === true, "image");
        source = "registry";
        entry = await place.endpoint.resolve(place.reference);
      }
      const description = await describe(place.endpoint, entry);
      if (flags.json === true) printJson(io, { name: place.name, source, ...description });
      else printDescription(io, place.name, description);
    });
}
