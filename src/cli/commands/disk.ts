// `strata disk pull` and `strata disk inspect`: a disk artifact (docs/vm.md) read from a
// registry — a gallery version such as prod/web-vm:1.4.2, a tag or a digest. `pull` writes it
// in the format asked for (converted from the stored qcow2 with qemu-img) and replaces the
// output file only once it is complete; `inspect` prints what its manifest says.
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import type { DiskDescription } from "../../disk/index.ts";
import { serverUrl } from "../api-client.ts";
import { parseChoice } from "../args.ts";
import { convertQcow2, formatOfName, PULL_FORMATS, type PullFormat } from "../disk-convert.ts";
import { usageError } from "../errors.ts";
import { parseImageLocation, registryClient } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson, printObject } from "../output.ts";
import { createProgress } from "../progress.ts";
import { formatBytes } from "../sizes.ts";

interface DiskFlags {
  server?: string;
  insecure?: boolean;
  json?: boolean;
  quiet?: boolean;
}

interface PullFlags extends DiskFlags {
  format?: string;
  output?: string;
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

function printDisk(io: CliIo, name: string, d: DiskDescription): void {
  const fields = {
    name,
    digest: d.digest,
    format: d.format,
    virtualSize: `${formatBytes(d.virtualSize)} (${d.virtualSize} bytes)`,
    boot: d.boot,
    size: `${formatBytes(d.layer.size)} (${d.layer.size} bytes, stored)`,
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
      .option("-q, --quiet", "print only the artifact's digest"),
  ).action(async (text: string, flags: PullFlags) => {
    const ref = diskRef(text, flags, io);
    const output = resolve(flags.output ?? "");
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
    let description: DiskDescription;
    if (format === "qcow2") {
      description = await pullDisk(client, ref.repository, ref.reference, output, {
        progress: progress.bytes,
      });
      progress.done();
    } else {
      // The qcow2 is staged beside the output (same file system, likely room for both).
      const scratch = await mkdtemp(join(dirname(output), ".strata-disk-"));
      try {
        const qcow2 = join(scratch, "disk.qcow2");
        description = await pullDisk(client, ref.repository, ref.reference, qcow2, {
          progress: progress.bytes,
        });
        progress.done();
        progress.line(`Converting to ${format}`);
        await convertQcow2(qcow2, output, format);
      } finally {
        progress.done();
        await rm(scratch, { recursive: true, force: true });
      }
    }
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
    const { fetchDisk } = await import("../../disk/index.ts");
    const client = await registryClient(ref.registry, io.env, flags.insecure === true);
    const description = await fetchDisk(client, ref.repository, ref.reference);
    if (flags.json === true) printJson(io, { ref: ref.name, ...description });
    else printDisk(io, ref.name, description);
  });
}
