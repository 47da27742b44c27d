// Makes the base images tests build on, from Debian packages only (nothing is pulled from a
// hub): `busybox` — the busybox-static binary with its applet links and a minimal /etc — written
// as an OCI image layout with the builder's own reproducible layers; and `debian` — a minimal
// Debian root (mmdebstrap's minbase variant, from the Debian archive) added to scratch by the
// builder, the way Debian's own images are made.
//
//   tsx scripts/base-images.ts OUT_DIR [--tag busybox]
//   tsx scripts/base-images.ts OUT_DIR --debian [--tag debian]
//   tsx scripts/base-images.ts OUT_DIR --debian --bootable [--tag debian-vm]
//
// `--bootable` adds what a VM disk needs: the kernel (linux-image-amd64, with initramfs-tools),
// systemd as init and udev.
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  appendLayer,
  build,
  buildWorkDir,
  diffSnapshots,
  parseContainerfile,
  scratchImage,
  snapshotTree,
  withConfig,
  withCreated,
  writeImageToLayout,
  writeLayer,
} from "../src/builder/index.ts";
import { MediaType } from "../src/oci/index.ts";

export const BUSYBOX_BINARY = "/bin/busybox";
const APPLETS = [
  "sh",
  "ash",
  "echo",
  "cat",
  "ls",
  "true",
  "false",
  "env",
  "id",
  "mkdir",
  "rm",
  "uname",
  "wc",
  "test",
  "touch",
  "sleep",
  "grep",
  "sed",
  "printf",
  "stat",
  "chmod",
  "ln",
  "cp",
  "mv",
  "head",
  "tail",
  "sort",
  "pwd",
  "whoami",
];
/** 2024-01-01T00:00:00Z: base images are the same bytes whenever they are made. */
export const BASE_EPOCH = 1_704_067_200;

const platform = () => ({ os: "linux", architecture: process.arch === "x64" ? "amd64" : process.arch });

/** Writes the busybox base image into the OCI layout `out` under `tag`; returns its manifest digest. */
export async function buildBusyboxBase(out: string, tag = "busybox"): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "strata-base-"));
  try {
    const root = join(work, "rootfs");
    await mkdir(root);
    const empty = await snapshotTree(root);
    for (const dir of ["bin", "dev", "etc", "proc", "root", "sys", "tmp", "var"])
      await mkdir(join(root, dir));
    await chmod(join(root, "tmp"), 0o1777);
    await copyFile(BUSYBOX_BINARY, join(root, "bin/busybox"));
    await chmod(join(root, "bin/busybox"), 0o755);
    for (const applet of APPLETS) await symlink("busybox", join(root, "bin", applet));
    await writeFile(
      join(root, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    );
    await writeFile(join(root, "etc/group"), "root:x:0:\nnobody:x:65534:\n");
    const snapshot = await snapshotTree(root);
    const layer = await writeLayer(
      root,
      snapshot,
      diffSnapshots(empty, snapshot),
      join(work, "layer.tar.gz"),
      {
        epoch: BASE_EPOCH,
        ownership: "root",
      },
    );
    let image = appendLayer(
      scratchImage(platform()),
      { ...layer, mediaType: MediaType.ImageLayerGzip },
      { created_by: "strata base-images: busybox-static from Debian" },
    );
    image = withConfig(image, (c) => ({ ...c, Env: ["PATH=/bin"], Cmd: ["/bin/sh"], WorkingDir: "/" }));
    image = withCreated(image, new Date(BASE_EPOCH * 1000).toISOString());
    return await writeImageToLayout(out, image, tag);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The Debian release the `debian` base is made of, and where its packages come from. */
export const DEBIAN_SUITE = "bookworm";
export const DEBIAN_MIRROR = "http://deb.debian.org/debian";

/** What `--bootable` adds: a kernel (its initramfs comes with it), systemd as init, udev. */
export const BOOTABLE_PACKAGES = ["linux-image-amd64", "systemd-sysv", "udev"];

/**
 * Writes a minimal Debian root (mmdebstrap --variant=minbase) into the OCI layout `out` under
 * `tag`, as one layer built by `FROM scratch` + `ADD rootfs.tar /`; returns its manifest digest.
 * The same packages give the same bytes: mmdebstrap and the builder both honour the epoch.
 */
export async function buildDebianBase(
  out: string,
  tag = "debian",
  options: { bootable?: boolean; include?: readonly string[] } = {},
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "strata-debian-"));
  try {
    const ctx = join(work, "ctx");
    await mkdir(ctx);
    await promisify(execFile)(
      "mmdebstrap",
      [
        "--variant=minbase",
        "--mode=root",
        "--quiet",
        ...((): string[] => {
          const include = [
            ...(options.bootable === true ? BOOTABLE_PACKAGES : []),
            ...(options.include ?? []),
          ];
          return include.length === 0 ? [] : [`--include=${include.join(",")}`];
        })(),
        DEBIAN_SUITE,
        join(ctx, "rootfs.tar"),
        DEBIAN_MIRROR,
      ],
      { env: { ...process.env, SOURCE_DATE_EPOCH: String(BASE_EPOCH) }, maxBuffer: 16 * 2 ** 20 },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(
        `mmdebstrap could not make a ${DEBIAN_SUITE} root: ${error.stderr?.trim() || error.message}`,
      );
    });
    const scratch = await buildWorkDir();
    try {
      const { image } = await build({
        containerfile: parseContainerfile('FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n', "Containerfile"),
        context: ctx,
        workDir: scratch.path,
        epoch: BASE_EPOCH,
      });
      return await writeImageToLayout(out, image, tag);
    } finally {
      await scratch.remove();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const out = args[0];
  const debian = args.includes("--debian");
  const bootable = args.includes("--bootable");
  const tagAt = args.indexOf("--tag");
  const tag = tagAt === -1 ? (bootable ? "debian-vm" : debian ? "debian" : "busybox") : args[tagAt + 1];
  const known = args
    .slice(1)
    .every((a, i) => a === "--debian" || a === "--bootable" || a === "--tag" || args[i] === "--tag");
  if (out === undefined || out.startsWith("--") || tag === undefined || !known || (bootable && !debian)) {
    console.error("usage: tsx scripts/base-images.ts OUT_DIR [--debian [--bootable]] [--tag NAME]");
    process.exit(2);
  }
  const digest = debian ? await buildDebianBase(out, tag, { bootable }) : await buildBusyboxBase(out, tag);
  console.log(`${debian ? "debian" : "busybox"} → oci:${out}:${tag} (${digest})`);
}
