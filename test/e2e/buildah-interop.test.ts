// The same Containerfile built by Strata and by buildah (Debian) gives the same file tree: paths,
// types, modes, owners, link targets and contents, once both images are unpacked by umoci.
// buildah's RUN leaves /etc/hostname, /etc/hosts, /etc/resolv.conf and /run behind; those are
// not compared.
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { build, buildWorkDir, parseContainerfile, writeImageToLayout } from "../../src/builder/index.ts";
import { runOk } from "../helpers/exec.ts";
import { fileTree } from "../helpers/file-tree.ts";

const BUILDAH_ONLY = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf", "run"]);
const STEPS = [
  "ENV APP=demo",
  "WORKDIR /srv",
  "COPY config.txt ./",
  "COPY --chown=nobody:nobody data/ /data/",
  "RUN echo built > /srv/built.txt && rm /etc/group && mkdir -p /var/lib/app && ln -s /srv/built.txt /var/lib/app/link",
  'CMD ["/bin/sh"]',
];

let work: string;

before(async () => {
  // buildah derives an image name from an oci: path, which must be lowercase.
  work = join(tmpdir(), `strata-buildah-interop-${process.pid}`);
  await mkdir(join(work, "ctx/data"), { recursive: true });
  await buildBusyboxBase(join(work, "ctx/base"));
  await writeFile(join(work, "ctx/config.txt"), "a=1\n");
  await writeFile(join(work, "ctx/data/seed"), "seed\n");
  await writeFile(join(work, "ctx/.containerignore"), "base\n");
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("Strata and buildah", () => {
  it("build the same file tree from the same Containerfile", async () => {
    const scratch = await buildWorkDir();
    try {
      const { image } = await build({
        containerfile: parseContainerfile(["FROM oci-layout:base:busybox", ...STEPS].join("\n")),
        context: join(work, "ctx"),
        workDir: scratch.path,
      });
      await writeImageToLayout(join(work, "strata-out"), image, "s");
    } finally {
      await scratch.remove();
    }
    await writeFile(
      join(work, "Buildahfile"),
      [`FROM oci:${join(work, "ctx/base")}:busybox`, ...STEPS].join("\n"),
    );
    const storage = [
      "--root",
      join(work, "storage"),
      "--runroot",
      join(work, "run"),
      "--storage-driver",
      "vfs",
    ];
    await runOk(
      "buildah",
      [
        ...storage,
        "bud",
        "--isolation",
        "chroot",
        "-q",
        "-f",
        join(work, "Buildahfile"),
        "-t",
        "interop",
        join(work, "ctx"),
      ],
      { timeoutMs: 120_000 },
    );
    await runOk("buildah", [...storage, "push", "interop", `oci:${join(work, "buildah-out")}:b`], {
      timeoutMs: 120_000,
    });
    await runOk("umoci", ["unpack", "--image", `${join(work, "strata-out")}:s`, join(work, "bundle-s")], {
      timeoutMs: 60_000,
    });
    await runOk("umoci", ["unpack", "--image", `${join(work, "buildah-out")}:b`, join(work, "bundle-b")], {
      timeoutMs: 60_000,
    });
    const ours = await fileTree(join(work, "bundle-s/rootfs"), BUILDAH_ONLY);
    const theirs = await fileTree(join(work, "bundle-b/rootfs"), BUILDAH_ONLY);
    assert.ok(ours.has("srv/built.txt") && ours.has("data/seed"));
    assert.ok(!ours.has("etc/group"));
    assert.deepEqual(Object.fromEntries(ours), Object.fromEntries(theirs));
  });
});
