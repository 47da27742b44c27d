// A bootable disk from an image: the layers unpacked into a root, generalized, written as ext4
// into a partitioned raw disk with a boot loader for the boot mode, then converted into each
// format asked for. Every step is timed (`onStage`) and every identifier is derived from a seed
// (the image digest unless told) and the options, so the same image and options give the same raw
// bytes.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installBiosGrub, installUefiGrub } from "./bootloader.ts";
import { DiskError } from "./errors.ts";
import { fileSystemSize, treeUsage, writeExt4 } from "./ext4.ts";
import { checkConverted, convertDisk, type DiskFormat } from "./formats.ts";
import { generalize, type BootMode } from "./generalize.ts";
import { derivedHex32, derivedUuid } from "./ids.ts";
import { makeLiveIso } from "./iso.ts";
import { planLayout, writePartitionTable } from "./layout.ts";
import { findBootFiles, unpackRoot, type DiskSource } from "./root.ts";

export interface DiskBuildOptions {
  readonly boot: BootMode;
  /** Formats to write; raw is always made (the others are converted from it). */
  readonly formats: readonly DiskFormat[];
  /** Whole disk in bytes (a whole number of MiB); default the content plus headroom. */
  readonly size?: number;
  readonly outDir: string;
  /** File base name: disk → disk.raw, disk.qcow2 … */
  readonly name?: string;
  /** Seconds since 1970 for every time written (default 0, or SOURCE_DATE_EPOCH). */
  readonly epoch?: number;
  /**
   * What the disk's identifiers (file system and partition UUIDs, the directory hash seed, the
   * MBR signature, the FAT volume id) derive from; default the image digest. Successive versions
   * of one disk built with one seed (the CLI uses the gallery definition or the image's
   * repository) keep those identifiers, so the file system metadata they do not change stays
   * byte for byte the same and a new version's chunks are mostly ones the last version has.
   */
  readonly seed?: string;
  /** Where to copy the disk's kernel, e.g. for the boot test's KVM probe (default: nowhere). */
  readonly kernelCopy?: string;
  /** Scratch folder (default a temporary one); removed afterwards. */
  readonly workDir?: string;
  readonly onStage?: (stage: string, seconds: number) => void;
}

export interface DiskFile {
  readonly format: DiskFormat;
  readonly path: string;
  readonly size: number;
}

export interface DiskBuildResult {
  readonly rawDigest: string;
  readonly virtualSize: number;
  readonly boot: BootMode;
  readonly files: readonly DiskFile[];
  readonly kernel: string;
  readonly rootUuid: string;
  readonly stages: readonly { readonly name: string; readonly seconds: number }[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 2 ** 20 }))
    hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}

function defaultEpoch(): number {
  const env = Number(process.env.SOURCE_DATE_EPOCH);
  return Number.isSafeInteger(env) && env >= 0 ? env : 0;
}

export async function buildDisk(source: DiskSource, options: DiskBuildOptions): Promise<DiskBuildResult> {
  const name = options.name ?? "disk";
  const epoch = options.epoch ?? defaultEpoch();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new DiskError("USAGE", `Invalid disk file name "${name}": letters, digits, ".", "_" and "-"`);
  const stages: { name: string; seconds: number }[] = [];
  let last = performance.now();
  const stage = (label: string) => {
    const now = performance.now();
    const seconds = Math.round(now - last) / 1000;
    last = now;
    stages.push({ name: label, seconds });
    options.onStage?.(label, seconds);
  };

  await mkdir(options.outDir, { recursive: true });
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), "strata-disk-")));
  await mkdir(work, { recursive: true });
  const root = join(work, "root");
  // Every identifier depends on the seed (default the image) and on what was asked, never on chance.
  const seed = `${options.seed ?? source.digest}\0${options.boot}\0${options.size ?? "auto"}`;
  const rootUuid = derivedUuid(seed, "root-fs");
  const espId = derivedHex32(seed, "esp-volume").toUpperCase();
  try {
    await mkdir(root);
    await unpackRoot(source, root);
    const files = await findBootFiles(root);
    if (options.kernelCopy !== undefined) await copyFile(join(root, files.kernel), options.kernelCopy);
    await generalize(root, {
      boot: options.boot,
      rootUuid,
      espId: `${espId.slice(0, 4)}-${espId.slice(4)}`,
      files,
      epoch,
    });
    stage("root filesystem");

    const usage = await treeUsage(root);
    const layout = planLayout(
      options.boot,
      fileSystemSize(usage),
      options.size,
      fileSystemSize(usage, false),
    );
    const partial = join(options.outDir, `.${name}.raw.partial`);
    await rm(partial, { force: true });
    await writeFile(partial, "");
    await truncate(partial, layout.size);
    await writePartitionTable(partial, layout, {
      diskId: options.boot === "bios" ? derivedHex32(seed, "mbr-signature") : derivedUuid(seed, "gpt-disk"),
      espPartUuid: derivedUuid(seed, "gpt-esp"),
      rootPartUuid: derivedUuid(seed, "gpt-root"),
    });
    // The same file system on the disk and, for the iso, in a file of its own.
    const fileSystem = {
      size: layout.root.size,
      uuid: rootUuid,
      label: "root",
      epoch,
      inodes: usage.inodes,
      scratch: work,
    };
    await writeExt4(root, { ...fileSystem, disk: partial, offset: layout.root.offset });
    stage("file system");

    if (options.boot === "bios") await installBiosGrub(partial, layout, work);
    else await installUefiGrub(partial, layout, work, { volumeId: espId, epoch });
    stage("boot loader");

    const rawDigest = await sha256File(partial);
    stage("raw digest");

    const written: DiskFile[] = [];
    const rawPath = join(options.outDir, `${name}.raw`);
    for (const format of options.formats) {
      if (format === "raw" || format === "iso") continue;
      const out = join(options.outDir, `${name}.${format}`);
      const tmp = join(options.outDir, `.${name}.${format}.partial`);
      await rm(tmp, { force: true });
      await convertDisk(partial, "raw", tmp, format);
      await checkConverted(tmp, format, layout.size);
      await rename(tmp, out);
      written.push({ format, path: out, size: (await stat(out)).size });
      stage(`convert ${format}`);
    }
    if (options.formats.includes("iso")) {
      const image = join(work, "root.ext4");
      await writeExt4(root, { ...fileSystem, disk: image, offset: 0 });
      const out = join(options.outDir, `${name}.iso`);
      const tmp = join(options.outDir, `.${name}.iso.partial`);
      await makeLiveIso({
        root,
        rootImage: image,
        kernelVersion: files.kernelVersion,
        out: tmp,
        epoch,
        workDir: join(work, "iso"),
      });
      await rename(tmp, out);
      written.push({ format: "iso", path: out, size: (await stat(out)).size });
      stage("iso");
    }
    if (options.formats.includes("raw")) {
      await rename(partial, rawPath);
      written.unshift({ format: "raw", path: rawPath, size: layout.size });
    } else await rm(partial, { force: true });

    return {
      rawDigest,
      virtualSize: layout.size,
      boot: options.boot,
      files: written,
      kernel: files.kernelVersion,
      rootUuid,
      stages,
    };
  } finally {
    await rm(join(options.outDir, `.${name}.raw.partial`), { force: true });
    if (options.workDir === undefined) await rm(work, { recursive: true, force: true });
    else await rm(root, { recursive: true, force: true });
  }
}
