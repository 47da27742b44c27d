// Building from a Containerfile without RUN: a multi-stage build on the busybox base image
// (COPY, COPY --from, COPY --chown, ADD of a tar, metadata) runs with runc; the same inputs in
// two folders give the same digest; bad inputs are refused with the file and line.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import {
  build,
  buildWorkDir,
  extractLayer,
  parseContainerfile,
  serialize,
  writeImageToLayout,
} from "../../src/builder/index.ts";
import { run, runOk } from "../helpers/exec.ts";
import { buildTar } from "../helpers/images.ts";

const CONTAINERFILE = `# a release image
ARG VERSION=0.0.0
FROM scratch AS files
COPY app/ /app/

FROM oci-layout:base:busybox
ARG VERSION
ENV APP_VERSION=$VERSION GREETING="hello world"
LABEL org.opencontainers.image.version=\${VERSION}
WORKDIR /srv
COPY --from=files /app ./app
COPY --chown=nobody:nobody data /data/
ADD extra.tar.gz /opt/
EXPOSE 8080
CMD ["/bin/sh", "/srv/app/run.sh"]
`;

let work: string;

async function makeContext(dir: string, mtime: Date): Promise<void> {
  await mkdir(join(dir, "app"), { recursive: true });
  await mkdir(join(dir, "data"));
  await writeFile(join(dir, "Containerfile"), CONTAINERFILE);
  await writeFile(
    join(dir, "app/run.sh"),
    'echo "$GREETING from $APP_VERSION"; cat /opt/extra.txt; ls -n /data | tail -n 1\n',
  );
  await writeFile(join(dir, "data/config"), "x=1\n");
  await writeFile(join(dir, "data/secret.key"), "do not ship\n");
  await writeFile(join(dir, ".containerignore"), "data/*.key\n");
  await writeFile(
    join(dir, "extra.tar.gz"),
    gzipSync(
      await buildTar([{ name: "extra.txt", type: "file", content: Buffer.from("from the archive\n") }]),
    ),
  );
  await buildBusyboxBase(join(dir, "base"));
  for (const path of ["app/run.sh", "data/config", "Containerfile", "extra.tar.gz"])
    await utimes(join(dir, path), mtime, mtime);
}

async function buildIn(context: string, buildArgs: Record<string, string> = {}) {
  const scratch = await buildWorkDir();
  try {
    const containerfile = parseContainerfile(await readFile(join(context, "Containerfile"), "utf8"));
    const { image } = await build({
      containerfile,
      context,
      buildArgs,
      epoch: 1_700_000_000,
      workDir: scratch.path,
    });
    const out = join(context, "out");
    const digest = await writeImageToLayout(out, image, "latest");
    return { image, digest, out };
  } finally {
    await scratch.remove();
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-engine-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("build", () => {
  it("builds a multi-stage image that runc runs", async () => {
    const context = join(work, "ctx-1");
    await makeContext(context, new Date("2030-01-01T00:00:00Z"));
    const { image, out } = await buildIn(context, { VERSION: "1.4.2" });
    assert.equal(image.layers.length, 4); // busybox, COPY --from, COPY data, ADD
    assert.equal(image.config.config?.Labels?.["org.opencontainers.image.version"], "1.4.2");
    assert.deepEqual(image.config.config?.ExposedPorts, { "8080/tcp": {} });
    assert.equal(image.config.config?.WorkingDir, "/srv");
    const bundle = join(work, "bundle");
    await runOk("umoci", ["unpack", "--image", `${out}:latest`, bundle], { timeoutMs: 60_000 });
    assert.deepEqual(
      await readdir(join(bundle, "rootfs/data")),
      ["config"],
      ".containerignore keeps the key out",
    );
    assert.equal((await stat(join(bundle, "rootfs/data/config"))).uid, 65534);
    const specPath = join(bundle, "config.json");
    const spec = JSON.parse(await readFile(specPath, "utf8")) as { process: { terminal: boolean } };
    spec.process.terminal = false;
    await writeFile(specPath, JSON.stringify(spec));
    const id = `strata-build-${process.pid}-${randomBytes(4).toString("hex")}`;
    const state = join(work, "runc");
    try {
      const result = await runOk("runc", ["--root", state, "run", "--bundle", bundle, id], {
        timeoutMs: 60_000,
      });
      assert.match(
        result.stdout,
        /^hello world from 1\.4\.2\nfrom the archive\n-rw-r--r-- +1 65534 +65534 .* config\n$/,
      );
    } finally {
      await run("runc", ["--root", state, "delete", "-f", id], { timeoutMs: 30_000 });
    }
  });

  it("gives the same digest for the same inputs in another folder at another time", async () => {
    const a = join(work, "repro-a");
    const b = join(work, "repro-b");
    await makeContext(a, new Date("2030-01-01T00:00:00Z"));
    await makeContext(b, new Date("2031-02-03T04:05:06Z"));
    const first = await buildIn(a, { VERSION: "2.0.0" });
    const second = await buildIn(b, { VERSION: "2.0.0" });
    assert.equal(first.digest, second.digest);
    assert.equal(serialize(first.image).manifestDigest, first.digest);
    const other = await buildIn(b, { VERSION: "2.0.1" });
    assert.notEqual(other.digest, first.digest, "a build arg changes the image");
  });

  it("refuses bad input with the file and line, reading nothing outside the context", async () => {
    const context = join(work, "bad");
    await makeContext(context, new Date("2030-01-01T00:00:00Z"));
    await writeFile(join(work, "outside.txt"), "secret outside\n");
    await symlink(join(work, "outside.txt"), join(context, "escape-link"));
    await mkdir(join(context, "dir-with-link"));
    await symlink("../../outside.txt", join(context, "dir-with-link/inner"));
    const cases: [string, RegExp][] = [
      [
        "FROM scratch\nCOPY ../outside.txt /x\n",
        /^Containerfile:2: COPY source "\.\.\/outside\.txt" is outside the build context$/,
      ],
      [
        "FROM scratch\nCOPY escape-link /x\n",
        /^Containerfile:2: symlink "escape-link" in the build context points outside it/,
      ],
      [
        "FROM scratch\nCOPY dir-with-link /x/\n",
        /^Containerfile:2: symlink "dir-with-link\/inner" in the build context points outside it/,
      ],
      [
        "FROM scratch\nCOPY missing /x\n",
        /^Containerfile:2: COPY source "missing" matches no file in the build context$/,
      ],
      [
        "FROM oci-layout:base:busybox\n\nRUN echo failing >&2; exit 3\n",
        /^Containerfile:3: RUN exited with code 3: failing$/,
      ],
      [
        "FROM oci-layout:base:busybox\nUSER ghost\nRUN true\n",
        /^Containerfile:3: USER "ghost" is not in the image's \/etc\/passwd$/,
      ],
      ["FROM oci-layout:base:nope\n", /^Containerfile:1: OCI layout .* has no tag "nope" \(tags: busybox\)/],
      [
        "FROM docker.io/library/alpine\n",
        /^Containerfile:1: base "docker\.io\/library\/alpine" is not supported here/,
      ],
      [
        "FROM scratch AS first\nCOPY --from=later a /b\nFROM scratch AS later\nCOPY --from=first a /c\n",
        /^Containerfile:2: COPY --from="later" names no earlier stage/,
      ],
      [
        "FROM scratch\nCOPY --chown=ghost data /d/\n",
        /^Containerfile:2: --chown: no user "ghost" in the image's \/etc\/passwd/,
      ],
      [
        "FROM scratch\nCOPY app/run.sh data/config /single\n",
        /^Containerfile:2: destination "\/single" must end with "\/"/,
      ],
    ];
    for (const [text, want] of cases) {
      const scratch = await buildWorkDir();
      try {
        await assert.rejects(
          build({ containerfile: parseContainerfile(text), context, workDir: scratch.path }),
          (e: unknown) => want.test((e as Error).message),
          text,
        );
      } finally {
        await scratch.remove();
      }
    }
    assert.equal(await readFile(join(work, "outside.txt"), "utf8"), "secret outside\n");
  });

  it("runs RUN in runc: changes and deletions become a layer, as the image's user, without network", async () => {
    const context = join(work, "run");
    await makeContext(context, new Date("2030-01-01T00:00:00Z"));
    await writeFile(
      join(context, "Containerfile"),
      [
        "FROM oci-layout:base:busybox",
        "ARG WHO=builder",
        'RUN echo "built by $WHO" > /built.txt && rm /etc/group && mkdir -p /var/lib/app && id -u > /var/lib/app/uid',
        "RUN cat /proc/net/dev | wc -l > /var/lib/app/interfaces",
        "USER nobody",
        "RUN id -u > /tmp/nobody-uid",
        'SHELL ["/bin/sh", "-e", "-c"]',
        "RUN false || echo shell kept >> /tmp/nobody-uid",
        "",
      ].join("\n"),
    );
    const digests: string[] = [];
    for (const round of [1, 2]) {
      const { image, out, digest } = await buildIn(context, { WHO: "ci" });
      digests.push(digest);
      assert.equal(image.layers.length, 5);
      if (round === 2) break;
      const bundle = join(work, "run-bundle");
      await runOk("umoci", ["unpack", "--image", `${out}:latest`, bundle], { timeoutMs: 60_000 });
      const rootfs = join(bundle, "rootfs");
      assert.equal(await readFile(join(rootfs, "built.txt"), "utf8"), "built by ci\n");
      await assert.rejects(stat(join(rootfs, "etc/group")), { code: "ENOENT" });
      assert.equal(await readFile(join(rootfs, "var/lib/app/uid"), "utf8"), "0\n");
      assert.equal(
        (await readFile(join(rootfs, "var/lib/app/interfaces"), "utf8")).trim(),
        "3",
        "only the loopback interface",
      );
      assert.equal(await readFile(join(rootfs, "tmp/nobody-uid"), "utf8"), "65534\nshell kept\n");
      assert.deepEqual(await readdir(join(rootfs, "dev")), [], "no device nodes in the layers");
    }
    assert.equal(digests[0], digests[1], "RUN steps are reproducible too");
  });

  it("resolves COPY destinations through symlinks inside the root, never outside it", async () => {
    const context = join(work, "symlinked-dest");
    await makeContext(context, new Date("2030-01-01T00:00:00Z"));
    // A marker outside the root at the path an escaping link would name, to see nothing lands there.
    const outside = join(work, "outside-target");
    await mkdir(outside, { recursive: true });
    await writeFile(
      join(context, "Containerfile"),
      [
        "FROM oci-layout:base:busybox",
        // Absolute and climbing links: both must land inside the root.
        `RUN ln -s ${outside} /escape && ln -s ../../../../../../..${outside} /climb && ln -s /srv /srvlink && mkdir /srv`,
        "COPY data/config /escape/config",
        "COPY data/config /climb/sub/config",
        "COPY data/config /srvlink/config",
        "",
      ].join("\n"),
    );
    const { out } = await buildIn(context);
    assert.deepEqual(await readdir(outside), [], "nothing written outside the root");
    const bundle = join(work, "symlinked-bundle");
    await runOk("umoci", ["unpack", "--image", `${out}:latest`, bundle], { timeoutMs: 60_000 });
    const rootfs = join(bundle, "rootfs");
    // Each link is followed as if the root were /: the files land at the link's target in the root.
    assert.equal(await readFile(join(rootfs, outside.slice(1), "config"), "utf8"), "x=1\n");
    assert.equal(await readFile(join(rootfs, outside.slice(1), "sub/config"), "utf8"), "x=1\n");
    assert.equal(await readFile(join(rootfs, "srv/config"), "utf8"), "x=1\n");
  });

  it("copies a context directory whose files are all fine, ignoring what .containerignore names", async () => {
    const context = join(work, "copy-dir");
    await makeContext(context, new Date("2030-01-01T00:00:00Z"));
    await cp(join(context, "data"), join(context, "more"), { recursive: true });
    await writeFile(join(context, "more/keep.key"), "public\n");
    await writeFile(join(context, ".containerignore"), "**/*.key\n!more/keep.key\n");
    const scratch = await buildWorkDir();
    try {
      const { image } = await build({
        containerfile: parseContainerfile("FROM scratch\nCOPY data/ more/ /d/\n"),
        context,
        workDir: scratch.path,
      });
      assert.equal(image.layers.length, 1);
      const unpacked = join(work, "copy-dir-root");
      await mkdir(unpacked);
      await extractLayer(image.layers[0]?.path ?? "", unpacked);
      assert.deepEqual((await readdir(join(unpacked, "d"))).sort(), ["config", "keep.key"]);
    } finally {
      await scratch.remove();
    }
  });
});
