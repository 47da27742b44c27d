// `strata disk push` and `strata disk migrate`: a disk file pushed to a registry as a chunked
// disk (docs/disk-format.md) — only the chunks the registry lacks travel — and an older disk
// artifact (one qcow2 blob) rewritten as a chunked one.
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import type { BootMode, DiskFileInfo } from "../../disk/index.ts";
import { parseChoice } from "../args.ts";
import { cacheOption } from "../disk-publish.ts";
import { usageError } from "../errors.ts";
import { registryClient } from "../images.ts";
import type { CliIo } from "../io.ts";
import { printJson } from "../output.ts";
import { createProgress } from "../progress.ts";
import { formatBytes } from "../sizes.ts";
import { parseSize } from "../../lib/size.ts";

interface TransferFlags {
  server?: string;
  insecure?: boolean;
  json?: boolean;
  boot?: string;
  maxSize?: string;
  tag?: string;
  base?: string | false;
  keepChunks?: boolean;
}

type DiskRef = (
  text: string,
  flags: TransferFlags,
  io: CliIo,
) => { registry: string; repository: string; reference: string; name: string };

/** A DiskError of the caller's making (USAGE, NOT_BOOTABLE, a refused file) exits 2 with its message. */
export function diskFailure(error: unknown): never {
  const e = error as { name?: string; code?: string; message?: string };
  if (e.name === "DiskError" && e.code !== "TOOL_FAILED") throw usageError(e.message ?? "");
  throw error;
}

/**
 * A disk file named on the command line: the boot mode asked for, and its format and virtual size
 * read from its header — refused, with nothing changed, when it names other files, is not what it
 * claims or is over --max-size (import.ts).
 */
export async function givenDisk(
  file: string,
  flags: { boot?: string; maxSize?: string },
): Promise<{ boot: BootMode; path: string; info: DiskFileInfo }> {
  const boot: BootMode = parseChoice("--boot", flags.boot, ["bios", "uefi"] as const) ?? "bios";
  const maxVirtualSize = parseSize(flags.maxSize ?? "2TiB");
  if (maxVirtualSize === undefined) throw usageError(`Invalid --max-size "${flags.maxSize}"`);
  const disk = await import("../../disk/index.ts");
  const path = resolve(file);
  const info = await disk
    .inspectDiskFile(path, { maxVirtualSize })
    .catch((error: unknown) => diskFailure(error));
  return { boot, path, info };
}

/** The disk at `path` as a raw file: itself, or converted into `scratch`. */
export async function rawOf(path: string, info: DiskFileInfo, scratch: string): Promise<string> {
  if (info.format === "raw") return path;
  const { convertDisk } = await import("../../disk/index.ts");
  const raw = join(scratch, "disk.raw");
  await convertDisk(path, info.format, raw, "raw");
  return raw;
}

interface Stats {
  readonly chunksSent: number;
  readonly uniqueChunks: number;
  readonly bytesSent: number;
  readonly bytesSkipped: number;
  readonly seconds: number;
  readonly chunksDelta?: number;
}

const sent = (s: Stats): string =>
  `${s.chunksSent} of ${s.uniqueChunks} chunks sent${s.chunksDelta ? ` (${s.chunksDelta} as deltas)` : ""} (${formatBytes(s.bytesSent)}; ${formatBytes(s.bytesSkipped)} already there) in ${s.seconds.toFixed(1)} s`;

export function registerDiskTransfer(
  disk: Command,
  io: CliIo,
  common: (c: Command) => Command,
  diskRef: DiskRef,
): void {
  common(
    disk
      .command("push <file> <ref>")
      .description(
        "Push a disk file (raw, qcow2, vhd, vmdk or vdi; the format read from its header) to a registry as a chunked disk: only the chunks the registry lacks are sent",
      )
      .option("--boot <mode>", "bios or uefi: how the disk boots", "bios")
      .option("--max-size <size>", "the largest virtual size taken", "2TiB")
      .option(
        "--base <ref>",
        "the disk's previous version in the same repository (a tag or digest): chunks that changed are stored as deltas against it when its chunks are in the local chunk cache (default: the tag pushed, when it holds a chunked disk)",
      )
      .option("--no-base", "store every chunk whole, with no delta against a previous version")
      .option(
        "--no-keep-chunks",
        "do not keep the pushed chunks' raw bytes in the local chunk cache (they take the disk's data bytes; without them the next version cannot be pushed as deltas against this one)",
      ),
  ).action(async (file: string, text: string, flags: TransferFlags) => {
    const ref = diskRef(text, flags, io);
    if (ref.reference.startsWith("sha256:"))
      throw usageError(`Invalid disk reference "${text}": push to a tag, not a digest`);
    const { boot, path, info } = await givenDisk(file, flags);
    const disk = await import("../../disk/index.ts");
    const progress = createProgress(io, flags.json === true);
    const scratch = await mkdtemp(join(dirname(path), ".strata-push-"));
    try {
      progress.line(`${file}: ${info.format}, ${formatBytes(info.virtualSize)} virtual`);
      const raw = await rawOf(path, info, scratch);
      const client = await registryClient(ref.registry, io.env, flags.insecure === true);
      progress.line(`Pushing ${file} to ${ref.name}`);
      const pushed = await disk
        .pushChunkedDisk(
          client,
          ref.repository,
          raw,
          { boot },
          {
            tag: ref.reference,
            ...cacheOption(io),
            ...(flags.base === undefined ? {} : { base: flags.base }),
            keepChunks: flags.keepChunks !== false,
          },
        )
        .catch((error: unknown) => diskFailure(error));
      progress.done();
      if (flags.json === true)
        printJson(io, { ref: ref.name, digest: pushed.digest, transfer: pushed.stats });
      else io.stdout.write(`Pushed ${file} to ${ref.name} (${pushed.digest}): ${sent(pushed.stats)}\n`);
    } finally {
      progress.done();
      await rm(scratch, { recursive: true, force: true });
    }
  });

  common(
    disk
      .command("migrate <ref>")
      .description(
        "Rewrite an older disk artifact (one qcow2 blob) as a chunked disk in the same repository; prints the new digest",
      )
      .option("--tag <tag>", "tag the chunked disk (default: by digest only)"),
  ).action(async (text: string, flags: TransferFlags) => {
    const ref = diskRef(text, flags, io);
    const disk = await import("../../disk/index.ts");
    const client = await registryClient(ref.registry, io.env, flags.insecure === true);
    const old = await disk
      .fetchDisk(client, ref.repository, ref.reference)
      .catch((error: unknown) => diskFailure(error));
    if (old.layout === "chunked") {
      if (flags.json === true) printJson(io, { ref: ref.name, digest: old.digest, migrated: false });
      else io.stdout.write(`${ref.name} (${old.digest}) is already a chunked disk\n`);
      return;
    }
    const progress = createProgress(io, flags.json === true);
    const scratch = await mkdtemp(join(resolve("."), ".strata-migrate-"));
    try {
      progress.line(`Pulling ${ref.name} (${old.digest})`);
      const raw = join(scratch, "disk.raw");
      await disk
        .pullDisk(client, ref.repository, old.digest, raw, { format: "raw" })
        .catch((error: unknown) => diskFailure(error));
      progress.line(`Pushing it as a chunked disk`);
      const pushed = await disk
        .pushChunkedDisk(
          client,
          ref.repository,
          raw,
          {
            boot: old.boot,
            ...(old.rawDigest === undefined ? {} : { rawDigest: old.rawDigest }),
            ...(old.subject === undefined
              ? {}
              : {
                  source: {
                    digest: old.subject.digest,
                    size: old.subject.size,
                    mediaType: old.subject.mediaType,
                  },
                }),
            ...(old.created === undefined ? {} : { created: new Date(old.created) }),
          },
          { ...(flags.tag === undefined ? {} : { tag: flags.tag }), ...cacheOption(io) },
        )
        .catch((error: unknown) => diskFailure(error));
      progress.done();
      if (flags.json === true)
        printJson(io, {
          ref: ref.name,
          from: old.digest,
          digest: pushed.digest,
          migrated: true,
          transfer: pushed.stats,
        });
      else
        io.stdout.write(
          `Migrated ${ref.name}: ${old.digest} → ${pushed.digest}${flags.tag === undefined ? "" : ` (tag ${flags.tag})`}; ${sent(pushed.stats)}\n`,
        );
    } finally {
      progress.done();
      await rm(scratch, { recursive: true, force: true });
    }
  });
}
