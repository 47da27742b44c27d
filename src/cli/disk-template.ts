// A template's `disk:` section during `strata build`: the disk is made from the same layers as
// the container image, in the formats asked for, and boot-tested with the section's gates inside
// the guest — all before anything is written, pushed or published, so a disk that does not boot
// stops the whole release.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DiskSection, Image } from "../builder/index.ts";
import type { DiskBuildResult, DiskFormat } from "../disk/index.ts";
import { bootTestDisk } from "./disk-test.ts";
import type { Progress } from "./progress.ts";

export interface TemplateDisk {
  readonly result: DiskBuildResult;
  readonly qcow2: string;
  /** The raw disk, which a publish pushes as chunks. */
  readonly raw: string;
  readonly test: Awaited<ReturnType<typeof bootTestDisk>>;
}

export async function buildTemplateDisk(
  image: Image,
  digest: string,
  section: DiskSection,
  outDir: string,
  epoch: number,
  progress: Progress,
): Promise<TemplateDisk> {
  const disk = await import("../disk/index.ts");
  const formats = [...new Set<DiskFormat>([...section.formats, "qcow2", "raw"])];
  const kernel = join(outDir, ".kernel");
  progress.line(`Building the ${section.boot} disk (${formats.join(", ")})`);
  const result = await disk
    .buildDisk(
      { digest, layers: image.layers.map((l) => ({ path: l.path, mediaType: l.mediaType })) },
      {
        boot: section.boot,
        formats,
        outDir,
        epoch,
        kernelCopy: kernel,
        // Versions of one definition share a seed, so their unchanged file system metadata is
        // the same bytes and travels once (docs/disk-format.md).
        ...(section.image === undefined ? {} : { seed: section.image }),
        ...(section.size === undefined ? {} : { size: section.size }),
        onStage: (stage, seconds) => progress.line(`  ${stage}: ${seconds.toFixed(1)} s`),
      },
    )
    .catch(async (error: unknown) => {
      await rm(kernel, { force: true });
      throw error;
    });
  const qcow2 = result.files.find((f) => f.format === "qcow2")?.path ?? "";
  progress.line(
    `Boot-testing the disk: ${section.tests.length} guest test${section.tests.length === 1 ? "" : "s"}`,
  );
  const test = await bootTestDisk(
    { path: qcow2, format: "qcow2" },
    {
      boot: section.boot,
      gates: section.tests,
      readyTimeout: section.readyTimeout,
      memoryMiB: section.memory,
      kernel,
    },
    progress,
  ).finally(() => rm(kernel, { force: true }));
  const raw = result.files.find((f) => f.format === "raw")?.path ?? "";
  return { result, qcow2, raw, test };
}
