// A real distribution as the base: a minimal Debian root from mmdebstrap (Debian's archive, no
// hub), made into an image by the builder itself (FROM scratch + ADD rootfs.tar). On it, an
// image template adds a user with useradd, copies a script owned by that user and runs Debian's
// own tools in RUN; its gates pass; `strata run` runs it; and buildah, building the same
// Containerfile on the same base, gives the same file tree, byte for byte.
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildDebianBase } from "../../scripts/base-images.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { runOk } from "../helpers/exec.ts";
import { fileTree } from "../helpers/file-tree.ts";

let work: string;

/** What buildah's RUN leaves behind and Strata's does not: the files it bind-mounts. */
const BUILDAH_ONLY = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf", "run/.containerenv"]);

const STEPS = (from: string) =>
  [
    `FROM ${from}`,
    "RUN useradd --create-home --uid 1000 app && dpkg-query -W -f='${Version}\\n' coreutils > /coreutils-version",
    "COPY --chown=app:app hello.sh /home/app/",
    "USER app",
    "WORKDIR /home/app",
    'CMD ["bash", "hello.sh"]',
    "",
  ].join("\n");

before(async () => {
  // buildah derives an image name from an oci: path, which must be lowercase.
  work = join(tmpdir(), `strata-debian-${process.pid}`);
  await mkdir(join(work, "app"), { recursive: true });
  await buildDebianBase(join(work, "base"));
  await writeFile(
    join(work, "app/hello.sh"),
    '#!/bin/bash\necho "hello from $(id -un) on Debian $(cut -d. -f1 /etc/debian_version)"\n',
    { mode: 0o755 },
  );
  await writeFile(join(work, "app/Containerfile"), STEPS(`oci-layout:${join(work, "base")}:debian`));
  await writeFile(
    join(work, "app/strata.yaml"),
    [
      "containerfile: Containerfile",
      "tests:",
      "  - name: says hello as app",
      "    command: [bash, hello.sh]",
      "    stdout: ^hello from app on Debian 12$",
      "  - name: coreutils came from Debian",
      "    command: dpkg-query -W coreutils",
      "    stdout: ^coreutils\\s",
      "  - name: the script belongs to the user",
      "    path: /home/app/hello.sh",
      "    type: file",
      '    mode: "0755"',
      "  - name: runs as app",
      "    metadata: { user: app, workingDir: /home/app }",
      "",
    ].join("\n"),
  );
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("a Debian base from mmdebstrap", () => {
  it("builds with gates, runs, and gives buildah's file tree", async () => {
    const env = { STRATA_DATA_DIR: join(work, "data"), SOURCE_DATE_EPOCH: "0" };
    const built = await runStrata(
      ["build", "-t", `oci-layout:${join(work, "strata-out")}:app`, join(work, "app")],
      env,
    );
    assert.equal(built.code, 0, built.stdout + built.stderr);
    assert.match(built.stdout + built.stderr, /PASS says hello as app/);
    assert.match(built.stdout + built.stderr, /PASS coreutils came from Debian/);

    const ran = await runStrata(["run", `oci-layout:${join(work, "strata-out")}:app`], env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "hello from app on Debian 12\n");

    await writeFile(join(work, "Buildahfile"), STEPS(`oci:${join(work, "base")}:debian`));
    const storage = [
      "--root",
      join(work, "buildah/root"),
      "--runroot",
      join(work, "buildah/run"),
      "--storage-driver",
      "vfs",
    ];
    await runOk("buildah", [
      ...storage,
      "bud",
      "--isolation",
      "chroot",
      "-f",
      join(work, "Buildahfile"),
      "-t",
      `oci:${join(work, "buildah-out")}:app`,
      join(work, "app"),
    ]);
    await runOk("umoci", ["unpack", "--image", `${join(work, "strata-out")}:app`, join(work, "s")]);
    await runOk("umoci", ["unpack", "--image", `${join(work, "buildah-out")}:app`, join(work, "b")]);
    const [ours, theirs] = [
      await fileTree(join(work, "s/rootfs"), BUILDAH_ONLY),
      await fileTree(join(work, "b/rootfs"), BUILDAH_ONLY),
    ];
    assert.ok(ours.size > 5000, `a whole Debian root (${ours.size} entries)`);
    const differences = [...new Set([...ours.keys(), ...theirs.keys()])]
      .filter((path) => ours.get(path) !== theirs.get(path))
      .map(
        (path) => `${path}: strata ${ours.get(path) ?? "absent"}, buildah ${theirs.get(path) ?? "absent"}`,
      );
    assert.deepEqual(differences, []);
  });
});
