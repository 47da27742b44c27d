// Publishing a disk as a gallery version, shared by `strata disk build --publish`, `strata disk
// import --publish`, `strata disk migrate --publish` and `strata build --publish` with a
// template's disk section: the raw disk is pushed as a chunked disk (docs/disk-format.md) to the
// gallery's repository on the server — only the chunks the server lacks travel — as a referrer of
// its source image when it has one, then published as VERSION of the `kind: vm` definition.
import { join } from "node:path";
import { clientFor } from "./api-client.ts";
import { imagePath, parseVersionRef, type VersionRef } from "./args.ts";
import { dataDir, registryClient } from "./images.ts";
import type { CliIo } from "./io.ts";
import type { Progress } from "./progress.ts";
import type { Inventory } from "../sbom/index.ts";
import type { SigningKey } from "../sign/index.ts";

export interface DiskPublishInput {
  /** The raw disk file. */
  readonly raw: string;
  readonly boot: "bios" | "uefi";
  /** sha256 of the raw disk, when known: the push checks the file against it. */
  readonly rawDigest?: string;
  /** The image the disk was made from. */
  readonly source?: { readonly digest: string; readonly size: number; readonly mediaType: string };
  /** GALLERY/NAME@VERSION. */
  readonly target: string;
  readonly server?: string;
  readonly insecure?: boolean;
  readonly changelog?: string;
  /**
   * The packages of the root the disk was made from: its SBOMs are attached to the disk artifact
   * too (subject the disk), beside those of its source image.
   */
  readonly sboms?: { readonly inventory: Inventory; readonly created?: string };
  /** Sign the disk artifact (and its SBOMs) with this key before publishing. */
  readonly sign?: SigningKey;
}

export interface DiskPublished {
  readonly ref: VersionRef;
  readonly digest: string;
  readonly version: unknown;
  /** What the push moved. */
  readonly transfer: unknown;
}

/**
 * The CLI's local chunk cache (docs/disk-format.md): raw chunks kept between pulls and the
 * raw-to-blob mapping pushes use; none when there is no data folder.
 */
export function chunkCache(io: CliIo): string | undefined {
  try {
    return join(dataDir(io.env), "chunk-cache");
  } catch {
    return undefined;
  }
}

/** `{ cacheDir }` when there is a chunk cache. */
export function cacheOption(io: CliIo): { cacheDir?: string } {
  const dir = chunkCache(io);
  return dir === undefined ? {} : { cacheDir: dir };
}

export async function publishDisk(
  input: DiskPublishInput,
  io: CliIo,
  progress: Progress,
): Promise<DiskPublished> {
  const ref = parseVersionRef(input.target);
  const { pushChunkedDisk } = await import("../disk/index.ts");
  const api = await clientFor(input.server === undefined ? {} : { server: input.server }, io.env);
  const registry = new URL(api.server).host;
  const repository = `${ref.gallery}/${ref.image}`;
  const client = await registryClient(registry, io.env, input.insecure === true);
  progress.line(`Pushing the disk to ${registry}/${repository} (only the chunks it lacks)`);
  // The definition's latest version is the base changed chunks are stored as deltas against.
  const latest = await api.call("GET", `${imagePath(ref)}/latest`).then(
    (answer) => (answer.body as { digest?: unknown } | undefined)?.digest,
    () => undefined,
  );
  const pushed = await pushChunkedDisk(
    client,
    repository,
    input.raw,
    {
      boot: input.boot,
      ...(input.rawDigest === undefined ? {} : { rawDigest: input.rawDigest }),
      ...(input.source === undefined ? {} : { source: input.source }),
    },
    { ...cacheOption(io), ...(typeof latest === "string" ? { base: latest, baseOptional: true } : {}) },
  );
  const s = pushed.stats;
  progress.line(
    `  ${s.chunksSent} of ${s.uniqueChunks} chunks sent, ${s.bytesSent} bytes in ${s.seconds.toFixed(1)} s`,
  );
  const signed: string[] = [pushed.digest];
  if (input.sboms !== undefined) {
    const { sbomReferrers } = await import("../sbom/index.ts");
    const { pushSboms } = await import("./image-sboms.ts");
    const { VERSION } = await import("./version.ts");
    const manifest = await client.getManifest(repository, pushed.digest, [
      "application/vnd.oci.image.manifest.v1+json",
    ]);
    const referrers = sbomReferrers(
      input.sboms.inventory,
      {
        name: `${repository}@${pushed.digest}`,
        digest: pushed.digest,
        ...(input.sboms.created === undefined ? {} : { created: input.sboms.created }),
        tool: `strata-${VERSION}`,
      },
      { digest: pushed.digest, size: manifest.bytes.length, mediaType: manifest.mediaType },
    );
    await pushSboms(client, repository, pushed.digest, referrers);
    progress.line(`  SBOMs attached to the disk (${input.sboms.inventory.packages.length} packages)`);
    signed.push(...referrers.map((r) => r.digest));
  }
  if (input.sign !== undefined) {
    const { signPushed } = await import("./sign-content.ts");
    await signPushed(client, repository, signed, input.sign, `${repository}:${ref.version}`);
    progress.line(
      `  signed the disk${signed.length > 1 ? " and its SBOMs" : ""} with key ${input.sign.keyId.slice(0, 16)}`,
    );
  }
  progress.line(`Publishing ${ref.gallery}/${ref.image}@${ref.version}`);
  const answer = await api.call("POST", `${imagePath(ref)}/versions`, {
    version: ref.version,
    from: `${repository}@${pushed.digest}`,
    ...(input.changelog === undefined ? {} : { changelog: input.changelog }),
  });
  return { ref, digest: pushed.digest, version: answer.body, transfer: pushed.stats };
}
