// Makes the base images tests build on, from Debian packages only (nothing is pulled from a
// hub): `busybox` — the busybox-static binary with its applet links and a minimal /etc — written
// as an OCI image layout with the builder's own reproducible layers.
//
//   tsx scripts/base-images.ts OUT_DIR [--tag busybox]
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  appendLayer,
  diffSnapshots,
  scratchImage,
  snapshotTree,
  withConfig,
  withCreated,
  writeImageToLayout,
  writeLayer,
} from "../src/build/index.ts";
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out, flag, tag] = process.argv.slice(2);
  if (out === undefined || (flag !== undefined && flag !== "--tag")) {
    console.error("usage: tsx scripts/base-images.ts OUT_DIR [--tag NAME]");
    process.exit(2);
  }
  const digest = await buildBusyboxBase(out, tag ?? "busybox");
  console.log(`busybox → oci:${out}:${tag ?? "busybox"} (${digest})`);
}
