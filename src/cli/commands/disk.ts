// `strata disk pull` and `strata disk inspect`: a disk artifact (docs/vm.md) read from a
// registry — a gallery version such as prod/web-vm:1.4.2, a tag or a digest. `pull` writes it
// in the format asked for (converted from the stored qcow2 or the assembled raw disk with
// qemu-img; a chunked disk's chunks are kept in a cache so the next version fetches only what
// changed) and replaces the output file only once it is complete; `inspect` prints what its
// manifest says (and, for a chunked disk, its chunk index).
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import type { ChunkedFacts, DiskDescription, DiskFormat } from "../../disk/index.ts";
import { serverUrl } from "../api-client.ts";
import { parseChoice } from "../args.ts";
import { formatOfName, PULL_FORMATS, type PullFormat } from "../disk-convert.ts";
import { usageError } from "../errors.ts";
import { parseImageLocation, registryClient } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson, printObject } from "../output.ts";
import { createProgress } from "../progress.ts";
import { formatBytes } from "../sizes.ts";
import { chunkCache, publishDisk } from "../disk-publish.ts";
import { localImages, parseImageLocation as parseImage, resolveImage } from "../images.ts";
import { imageSboms, sbomSummary } from "../image-sboms.ts";
import { parseSize } from "../../lib/size.ts";
import { bootTestDisk } from "../disk-test.ts";
import { diskFailure, givenDisk, rawOf, registerDiskTransfer } from "./disk-transfer.ts";

interface DiskFlags {
  server?: string;
  insecure?: boolean;
  json?: boolean;
  quiet?: boolean;
}

interface PullFlags extends DiskFlags {
  format?: string;
  output?: string;
  maxIndexSize?: string;
}

/** The registry, repository and tag or digest REF names; a REF without a registry is the server's. */
function diskRef(
  text: string,
  flags: DiskFlags,
  io: CliIo,
): { registry: string; repository: string; reference: string; name: string } {
  const ref = parseImageLocation(text, "disk reference");
  if (ref.kind !== "name")
    throw usageError(`Invalid disk reference "${text}": expected [REGISTRY/]REPO[:TAG|@DIGEST]`);
  const registry = ref.reference.registry ?? new URL(serverUrl(flags.server, io.env)).host;
  const reference = ref.reference.digest ?? ref.reference.tag ?? "latest";
  const separator = reference.includes(":") ? "@" : ":";
  return {
    registry,
    repository: ref.reference.repository,
    reference,
    name: `${registry}/${ref.reference.repository}${separator}${reference}`,
  };
}

function printDisk(io: CliIo, name: string, d: DiskDescription, chunked?: ChunkedFacts): void {
  const stored = d.layout === "qcow2" ? d.layer.size : chunked?.storedBytes;
  const fields = {
    name,
    digest: d.digest,
    format: d.format,
    virtualSize: `${formatBytes(d.virtualSize)} (${d.virtualSize} bytes)`,
    boot: d.boot,
    size: stored === undefined ? undefined : `${formatBytes(stored)} (${stored} bytes, stored)`,
    ...(chunked === undefined
      ? {}
      : {
          chunks: `${chunked.chunks} (${chunked.uniqueChunks} unique, ${chunked.parts} parts)`,
          data: `${formatBytes(chunked.dataBytes)} in chunks, the rest in ${chunked.holes} holes`,
        }),
    rawDigest: d.rawDigest,
    baseDigest: d.baseDigest,
    subject: d.subject?.digest,
    created: d.created,
  };
  printObject(io, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
}

export function registerDisk(program: Command, io: CliIo): void {
  const disk = program.command("disk").description("VM disks: disk artifacts in a registry and gallery");
  const common = (c: Command): Command =>
    c
      .option(
        "--server <url>",
        "the registry a REF without one names (default $STRATA_SERVER, else http://127.0.0.1:5000)",
      )
      .option("--insecure", "plain HTTP to registries that are not on loopback")
      .option("--json", "print JSON");

  common(
    disk
      .command("pull <ref>")
      .description(
        "Write a disk artifact (a gallery version such as prod/web-vm:1.4.2, a tag or a digest) to a file, in the format asked for",
      )
      .requiredOption("-o, --output <file>", "the disk file to write (replaced only once complete)")
      .option(
        "--format <format>",
        `${PULL_FORMATS.join(", ")} (default: the output's extension, else qcow2); vhd is fixed, vmdk streamOptimized`,
      )
      .option(
        "--max-index-size <size>",
        "the largest chunk index taken, compressed or not (a chunked disk's; docs/disk-format.md)",
        "256MiB",
      )
      .option("-q, --quiet", "print only the artifact's digest"),
  ).action(async (text: string, flags: PullFlags) => {
    const ref = diskRef(text, flags, io);
    const output = resolve(flags.output ?? "");
    const maxIndexBytes = parseSize(flags.maxIndexSize ?? "256MiB");
    if (maxIndexBytes === undefined || maxIndexBytes < 1)
      throw usageError(`Invalid --max-index-size "${flags.maxIndexSize}": expected a size such as 64MiB`);
    if (flags.format === "iso" || (flags.format === undefined && /\.iso$/i.test(output)))
      throw usageError(
        "Cannot pull a disk as an iso: an iso is built from the image (strata disk build), not converted from a disk",
      );
    const format: PullFormat =
      parseChoice("--format", flags.format, PULL_FORMATS) ?? formatOfName(output) ?? "qcow2";
    const { pullDisk } = await import("../../disk/index.ts");
    const client = await registryClient(ref.registry, io.env, flags.insecure === true);
    const progress = createProgress(io, flags.json === true || flags.quiet === true);
    progress.line(`Pulling ${ref.name}`);
    const cacheDir = chunkCache(io);
    // Written beside the output, converted from the stored qcow2 (or assembled raw from the
    // chunks) when another format is asked for, and renamed over the output once complete.
    const description = await pullDisk(client, ref.repository, ref.reference, output, {
      progress: progress.bytes,
      format,
      limits: { maxIndexBytes },
      ...(cacheDir === undefined ? {} : { cacheDir }),
    }).finally(() => progress.done());
    if (flags.json === true) printJson(io, { ref: ref.name, output, outputFormat: format, ...description });
    else if (flags.quiet === true) io.stdout.write(`${description.digest}\n`);
    else
      io.stdout.write(
        `Pulled ${ref.name} (${description.digest}) to ${output} (${format}, ${formatBytes(description.virtualSize)} virtual, ${description.boot})\n`,
      );
  });

  common(
    disk
      .command("inspect <ref>")
      .description(
        "Show what a disk artifact's manifest says: format, virtual size, boot mode, source image",
      ),
  ).action(async (text: string, flags: DiskFlags) => {
    const ref = diskRef(text, flags, io);
    const { chunkedFacts, fetchChunkedIndex, fetchDisk } = await import("../../disk/index.ts");
    const client = await registryClient(ref.registry, io.env, flags.insecure === true);
    const description = await fetchDisk(client, ref.repository, ref.reference);
    const chunked =
      description.layout === "chunked"
        ? chunkedFacts(await fetchChunkedIndex(client, ref.repository, description))
        : undefined;
    if (flags.json === true)
      printJson(io, {
        ref: ref.name,
        ...description,
        ...(chunked === undefined ? {} : { chunkedFacts: chunked }),
      });
    else printDisk(io, ref.name, description, chunked);
  });

  common(
    disk
      .command("build <image>")
      .description(
        "Make a bootable VM disk from an image (a kernel, its initramfs and an init in its root): raw, qcow2, vhd, vmdk, vdi or a live iso",
      )
      .requiredOption("-o, --output <dir>", "the folder to write the disks into (disk.qcow2, disk.vhd …)")
      .option("--format <formats>", "comma-separated: raw, qcow2, vhd, vmdk, vdi, iso", "qcow2")
      .option("--size <size>", "the whole disk, e.g. 4GiB (default: the content plus headroom)")
      .option("--boot <mode>", "bios or uefi", "bios")
      .option("--name <name>", "the files' base name", "disk")
      .option("--test", "boot the disk in QEMU (on a throwaway overlay) and wait until it is ready")
      .option(
        "--seed <text>",
        "what the disk's UUIDs derive from (default: the image digest, or GALLERY/NAME when publishing): keep it across versions so they share chunks",
      )
      .option(
        "--publish <gallery/name@version>",
        "push and publish the disk as a version of a kind: vm definition (boot-tested first)",
      )
      .option("-q, --quiet", "print only the raw disk's digest"),
  ).action(async (text: string, flags: DiskBuildFlags) => {
    const boot = parseChoice("--boot", flags.boot, ["bios", "uefi"] as const) ?? "bios";
    const size = flags.size === undefined ? undefined : parseSize(flags.size);
    if (flags.size !== undefined && size === undefined)
      throw usageError(`Invalid --size "${flags.size}": expected a size such as 4GiB or 2048MiB`);
    const disk = await import("../../disk/index.ts");
    let formats: DiskFormat[];
    try {
      formats = disk.parseFormats(flags.format ?? "qcow2");
    } catch (error) {
      throw usageError((error as Error).message);
    }
    const publishing = flags.publish !== undefined;
    // The boot test reads the qcow2 and the push the raw disk: make them even when not asked for.
    const wanted = [
      ...new Set<DiskFormat>([
        ...formats,
        ...(publishing || flags.test === true ? (["qcow2"] as const) : []),
        ...(publishing ? (["raw"] as const) : []),
      ]),
    ];
    // Versions of one definition share a seed, so their unchanged file system metadata is the
    // same bytes and travels once (docs/disk-format.md).
    const seed = flags.seed ?? (publishing ? (flags.publish ?? "").split("@")[0] : undefined);
    const progress = createProgress(io, flags.json === true || flags.quiet === true);
    const location = parseImage(text, "image");
    const image = await resolveImage(location, {
      env: io.env,
      insecure: flags.insecure === true,
      progress: (line) => progress.line(line),
    });
    const { serialize } = await import("../../builder/index.ts");
    const serialized = serialize(image);
    const digest = image.source ?? serialized.manifestDigest;
    // The image's SBOMs, from its layers, before the disk is made (an unreadable package
    // database stops here): attached, once the disk is built, to the image where it is kept (its
    // layout or the local store: a registry image was pulled there), and to the disk artifact
    // when it is published.
    const subject = { digest, size: serialized.manifest.length };
    const sboms = await imageSboms(image, text, subject);
    for (const warning of sboms.inventory.warnings ?? []) io.stderr.write(`warning: ${warning}\n`);
    const outDir = resolve(flags.output ?? "");
    const testing = flags.test === true || publishing;
    const kernel = join(outDir, ".kernel");
    progress.line(`Building a ${boot} disk from ${text} (${digest})`);
    const built = await disk
      .buildDisk(
        { digest, layers: image.layers.map((l) => ({ path: l.path, mediaType: l.mediaType })) },
        {
          boot,
          formats: wanted,
          outDir,
          name: flags.name ?? "disk",
          ...(size === undefined ? {} : { size }),
          ...(seed === undefined ? {} : { seed }),
          ...(testing ? { kernelCopy: kernel } : {}),
          ...(image.config.created === undefined
            ? {}
            : { epoch: Math.floor(Date.parse(image.config.created) / 1000) }),
          onStage: (stage, seconds) => progress.line(`  ${stage}: ${seconds.toFixed(1)} s`),
        },
      )
      .catch(async (error: unknown) => {
        await rm(kernel, { force: true });
        return diskFailure(error);
      });
    // The disk was made: its image gets its SBOMs (a refused image gets nothing).
    if (image.source === serialized.manifestDigest) {
      const { attachSbomsToLayout } = await import("../../sbom/index.ts");
      await attachSbomsToLayout(
        location.kind === "layout" ? location.dir : localImages(io.env),
        subject,
        sboms.referrers,
      );
    }
    const qcow2 = built.files.find((f) => f.format === "qcow2")?.path;
    let test: Awaited<ReturnType<typeof bootTestDisk>> | undefined;
    if (testing && qcow2 !== undefined) {
      progress.line("Boot-testing the disk in QEMU");
      test = await bootTestDisk(
        { path: qcow2, format: "qcow2" },
        { boot, gates: [], kernel },
        progress,
      ).finally(() => rm(kernel, { force: true }));
    }
    let published: unknown;
    const raw = built.files.find((f) => f.format === "raw")?.path;
    if (publishing && raw !== undefined) {
      published = await publishDisk(
        {
          raw,
          target: flags.publish ?? "",
          boot,
          rawDigest: built.rawDigest,
          ...(image.source === undefined || serialized.manifestDigest !== image.source
            ? {}
            : {
                source: {
                  digest: image.source,
                  size: serialized.manifest.length,
                  mediaType: "application/vnd.oci.image.manifest.v1+json",
                },
              }),
          ...(flags.server === undefined ? {} : { server: flags.server }),
          insecure: flags.insecure === true,
          sboms: {
            inventory: sboms.inventory,
            ...(image.config.created === undefined ? {} : { created: image.config.created }),
          },
        },
        io,
        progress,
      );
    }
    if (raw !== undefined && !formats.includes("raw")) await rm(raw, { force: true });
    progress.done();
    const summary = {
      image: text,
      source: digest,
      ...built,
      files: built.files.filter((f) => f.format !== "raw" || formats.includes("raw")),
      ...(test === undefined ? {} : { test }),
      ...(published === undefined ? {} : { published }),
      sboms: sbomSummary(sboms),
    };
    if (flags.json === true) printJson(io, summary);
    else if (flags.quiet === true) io.stdout.write(`${built.rawDigest}\n`);
    else {
      for (const f of built.files.filter((f) => formats.includes(f.format)))
        io.stdout.write(`${f.path}  ${f.format}  ${formatBytes(f.size)}\n`);
      io.stdout.write(
        `raw digest ${built.rawDigest}, ${formatBytes(built.virtualSize)} virtual, ${boot}, kernel ${built.kernel}\n`,
      );
    }
  });

  common(
    disk
      .command("import <file>")
      .description(
        "Check an existing disk (raw, qcow2, vhd, vmdk or vdi; the format read from its header, never its name) and publish it as a version of a kind: vm definition",
      )
      .requiredOption("--publish <gallery/name@version>", "the version to publish it as")
      .option("--boot <mode>", "bios or uefi: how the disk boots", "bios")
      .option("--max-size <size>", "the largest virtual size taken", "2TiB"),
  ).action(async (file: string, flags: DiskImportFlags) => {
    const { boot, path, info } = await givenDisk(file, flags);
    const progress = createProgress(io, flags.json === true);
    progress.line(`${file}: ${info.format}, ${formatBytes(info.virtualSize)} virtual`);
    const scratch = await mkdtemp(join(dirname(path), ".strata-import-"));
    try {
      const raw = await rawOf(path, info, scratch);
      const published = await publishDisk(
        {
          raw,
          target: flags.publish ?? "",
          boot,
          ...(flags.server === undefined ? {} : { server: flags.server }),
          insecure: flags.insecure === true,
        },
        io,
        progress,
      );
      progress.done();
      if (flags.json === true) printJson(io, { file: path, ...info, ...published });
      else io.stdout.write(`Published ${file} as ${flags.publish} (${published.digest})\n`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
  registerDiskTransfer(disk, io, common, diskRef);
}

interface DiskBuildFlags extends DiskFlags {
  output?: string;
  format?: string;
  size?: string;
  boot?: string;
  name?: string;
  test?: boolean;
  publish?: string;
  seed?: string;
}

interface DiskImportFlags extends DiskFlags {
  publish?: string;
  boot?: string;
  maxSize?: string;
}
