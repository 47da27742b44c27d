// `strata diff` on real images: two images built from Containerfiles on the busybox base (real
// layer tars, a RUN that deletes and rewrites files), compared in an OCI layout and on a real
// `strata serve` after `strata copy`; SBOMs attached as in-toto referrers give the package diff;
// disk artifacts are compared through their subjects; bad references, non-images and corrupt
// layers fail with a clear error and a non-zero exit.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { MediaType } from "../../src/oci/index.ts";
import { blobPath, createLayoutEndpoint, layoutTags, setTag } from "../../src/remote/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { authYaml, PASSWORD } from "../helpers/gallery.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

let work: string;
let layout: string;
let server: RunningStrata;
const digests: Record<string, string> = {};
const HOST_ARCH = process.arch === "x64" ? "amd64" : process.arch;

const env = () => ({
  STRATA_DATA_DIR: join(work, "data"),
  XDG_CACHE_HOME: join(work, "cache"),
  STRATA_CONFIG_DIR: join(work, "config"),
  SOURCE_DATE_EPOCH: "0",
});
const strata = (args: readonly string[]) => runStrata(args, env());
const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

const V1 = [
  "FROM oci-layout:base:busybox",
  "ENV MODE=prod LEVEL=1 OLD=yes",
  "LABEL version=1.1.0 team=web",
  "COPY app.txt /srv/app.txt",
  "RUN mkdir -p /srv/data && echo one > /srv/data/conf && echo bye > /srv/gone.txt && chmod 644 /srv/app.txt",
  "EXPOSE 80",
  'CMD ["cat", "/srv/app.txt"]',
  "",
].join("\n");
const V2 = [
  "FROM oci-layout:base:busybox",
  "ENV MODE=prod LEVEL=2 NEW=1",
  "LABEL version=1.2.0 team=web",
  "COPY app.txt /srv/app.txt",
  "RUN mkdir -p /srv/data && echo two! > /srv/data/conf && ln -s app.txt /srv/link && chmod 600 /srv/app.txt",
  "USER 1000",
  "EXPOSE 8080",
  'CMD ["cat", "/srv/link"]',
  "",
].join("\n");

async function build(containerfile: string, tag: string): Promise<string> {
  await writeFile(join(work, "ctx/Containerfile"), containerfile);
  const result = await strata(["build", "--json", "-t", `oci-layout:${layout}:${tag}`, join(work, "ctx")]);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { digest: string }).digest;
}

/** Attaches an artifact manifest with one blob to `subject` in the layout, and tags it. */
async function attach(
  subject: string,
  artifactType: string,
  body: Buffer,
  tag: string,
  extra: { layerType?: string; annotations?: Record<string, string> } = {},
): Promise<string> {
  const endpoint = createLayoutEndpoint(layout);
  const empty = Buffer.from("{}");
  await endpoint.putBlob({ mediaType: MediaType.Empty, digest: sha(empty), size: 2 }, { bytes: empty });
  const layerType = extra.layerType ?? artifactType;
  await endpoint.putBlob({ mediaType: layerType, digest: sha(body), size: body.length }, { bytes: body });
  const subjectEntry = (await layoutTags(layout)).find((t) => t.entry.digest === subject)?.entry;
  assert.ok(subjectEntry !== undefined);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType,
      config: { mediaType: MediaType.Empty, digest: sha(empty), size: 2 },
      layers: [{ mediaType: layerType, digest: sha(body), size: body.length }],
      subject: { mediaType: subjectEntry.mediaType, digest: subject, size: subjectEntry.size },
      ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }),
    }),
  );
  const entry = {
    mediaType: MediaType.ImageManifest,
    digest: sha(manifest),
    size: manifest.length,
    artifactType,
    ...(extra.annotations === undefined ? {} : { annotations: extra.annotations }),
  };
  await endpoint.putManifest(entry, manifest);
  await endpoint.attachReferrer(subject, entry);
  await setTag(layout, tag, entry);
  return entry.digest;
}

function spdxStatement(subject: string, packages: [string, string][]): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ name: "image", digest: { sha256: subject.slice(7) } }],
      predicateType: "https://spdx.dev/Document/v2.3",
      predicate: {
        spdxVersion: "SPDX-2.3",
        packages: packages.map(([name, version]) => ({
          name,
          versionInfo: version,
          externalRefs: [
            {
              referenceCategory: "PACKAGE-MANAGER",
              referenceType: "purl",
              referenceLocator: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=debian-12`,
            },
          ],
        })),
      },
    }),
  );
}

interface DiffJson {
  sameImage: boolean;
  disk?: { before?: string; after?: string; same: boolean };
  packages?: {
    available: boolean;
    note?: string;
    upgraded?: { name: string; from: { version: string }; to: { version: string } }[];
    added?: { name: string }[];
    removed?: { name: string }[];
  };
  files?: {
    added: { path: string; type: string; target?: string }[];
    removed: { path: string; size: number }[];
    changed: { path: string; changes: string[] }[];
    totals: Record<string, unknown>;
    omitted: Record<string, number>;
    sharedLayers: number;
  };
  config?: Record<string, unknown>;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-diff-cli-"));
  layout = join(work, "images");
  await mkdir(join(work, "ctx"));
  await buildBusyboxBase(join(work, "ctx/base"));
  await writeFile(join(work, "ctx/app.txt"), "app\n");
  digests.v1 = await build(V1, "v1");
  digests.v2 = await build(V2, "v2");
  server = await startStrata({ config: await authYaml(["alice"]) });
  const login = await runStrata(
    ["login", "--server", server.url, "-u", "alice", "--password-stdin"],
    env(),
    PASSWORD,
  );
  assert.equal(login.code, 0, login.stderr);
});
after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

const EXPECTED_FILES = {
  added: [{ path: "/srv/link", type: "symlink", size: 0, mode: "0777", uid: 0, gid: 0, target: "app.txt" }],
  removed: [
    {
      path: "/srv/gone.txt",
      type: "file",
      size: 4,
      mode: "0644",
      uid: 0,
      gid: 0,
      sha256: createHash("sha256").update("bye\n").digest("hex"),
    },
  ],
  changed: [
    { path: "/srv/app.txt", changes: ["mode"] },
    { path: "/srv/data/conf", changes: ["content", "size"] },
  ],
  totals: {
    added: { count: 1, bytes: 0 },
    removed: { count: 1, bytes: 4 },
    changed: { count: 2, bytesBefore: 8, bytesAfter: 9 },
    sizeDelta: -3,
  },
};

const EXPECTED_CONFIG = {
  env: {
    added: [{ key: "NEW", value: "1" }],
    removed: [{ key: "OLD", value: "yes" }],
    changed: [{ key: "LEVEL", from: "1", to: "2" }],
  },
  labels: { added: [], removed: [], changed: [{ key: "version", from: "1.1.0", to: "1.2.0" }] },
  exposedPorts: { added: ["8080/tcp"], removed: ["80/tcp"] },
  volumes: { added: [], removed: [] },
  cmd: { from: ["cat", "/srv/app.txt"], to: ["cat", "/srv/link"] },
  user: { to: "1000" },
  unchanged: false,
};

function checkDiff(d: DiffJson): void {
  const f = d.files;
  assert.ok(f !== undefined);
  assert.deepEqual(f.added, EXPECTED_FILES.added);
  assert.deepEqual(f.removed, EXPECTED_FILES.removed);
  assert.deepEqual(
    f.changed.map((c) => ({ path: c.path, changes: c.changes })),
    EXPECTED_FILES.changed,
  );
  assert.deepEqual(f.totals, EXPECTED_FILES.totals);
  // The base and the COPY layer are the same in both: read once.
  assert.equal(f.sharedLayers, 2);
  assert.deepEqual(d.config, EXPECTED_CONFIG);
}

/** How a later SBOM says what it is and when it was made. */
const RESCAN = {
  "in-toto.io/predicate-type": "https://spdx.dev/Document/v2.3",
  "org.opencontainers.image.created": "2030-01-01T00:00:00Z",
};

describe("strata diff", () => {
  it("compares two images of an OCI layout: files, config, and packages from the build's SBOMs", async () => {
    const result = await strata(["diff", "--json", `oci-layout:${layout}:v1`, `oci-layout:${layout}:v2`]);
    assert.equal(result.code, 0, result.stderr);
    const d = JSON.parse(result.stdout) as DiffJson;
    checkDiff(d);
    // The busybox images hold no package database: their SBOMs list nothing, so nothing changed.
    assert.equal(d.packages?.available, true);
    assert.deepEqual([d.packages?.added, d.packages?.removed, d.packages?.upgraded], [[], [], []]);
  });

  it("prints text grouped by section, and only the sections asked for", async () => {
    const text = await strata(["diff", `oci-layout:${layout}:v1`, `oci-layout:${layout}:v2`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Files: 1 added \(0 B\), 1 removed \(4 B\), 2 changed \(\+1 B\); size -3 B$/m);
    assert.match(text.stdout, /^ {2}\+ \/srv\/link {2}symlink 0777 0:0 → app\.txt$/m);
    assert.match(text.stdout, /^ {2}~ \/srv\/app\.txt {2}mode 0644 → 0600$/m);
    assert.match(text.stdout, /^ {2}env ~ LEVEL: 1 → 2$/m);
    const only = await strata(["diff", "--config", `oci-layout:${layout}:v1`, `oci-layout:${layout}:v2`]);
    assert.doesNotMatch(only.stdout, /Files:|Packages:/);
    assert.match(only.stdout, /^Config:$/m);
    const capped = await strata([
      "diff",
      "--json",
      "--files",
      "--max-files",
      "1",
      `oci-layout:${layout}:v1`,
      `oci-layout:${layout}:v2`,
    ]);
    const d = JSON.parse(capped.stdout) as DiffJson;
    assert.equal(d.files?.changed.length, 1);
    assert.deepEqual(d.files?.omitted, { added: 0, removed: 0, changed: 1 });
    assert.deepEqual(d.files?.totals, EXPECTED_FILES.totals);
    assert.equal(d.config, undefined);
  });

  it("diffs packages from the newest SBOMs attached as in-toto referrers, beside provenance", async () => {
    // SBOMs attached after the build's (a rescan, say) win over the build's own.
    // The builder's provenance is an in-toto referrer too: it must be passed over.
    await attach(
      digests.v1 ?? "",
      "application/vnd.in-toto+json",
      spdxStatement(digests.v1 ?? "", [
        ["openssl", "3.0.14-1~deb12u1"],
        ["wget", "1.21.3-1"],
      ]),
      "sbom1",
      { annotations: RESCAN },
    );
    await attach(
      digests.v2 ?? "",
      "application/vnd.in-toto+json",
      spdxStatement(digests.v2 ?? "", [
        ["openssl", "3.0.15-1~deb12u1"],
        ["curl", "7.88.1-10"],
      ]),
      "sbom2",
      { annotations: RESCAN },
    );
    const result = await strata([
      "diff",
      "--json",
      "--packages",
      `oci-layout:${layout}:v1`,
      `oci-layout:${layout}:v2`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const p = (JSON.parse(result.stdout) as DiffJson).packages;
    assert.equal(p?.available, true);
    assert.deepEqual(
      p?.upgraded?.map((u) => `${u.name} ${u.from.version} → ${u.to.version}`),
      ["openssl 3.0.14-1~deb12u1 → 3.0.15-1~deb12u1"],
    );
    assert.deepEqual(
      p?.added?.map((a) => a.name),
      ["curl"],
    );
    assert.deepEqual(
      p?.removed?.map((a) => a.name),
      ["wget"],
    );
    const text = await strata(["diff", "--packages", `oci-layout:${layout}:v1`, `oci-layout:${layout}:v2`]);
    assert.match(text.stdout, /^ {2}~ openssl 3\.0\.14-1~deb12u1 → 3\.0\.15-1~deb12u1$/m);
    assert.match(text.stdout, /^ {2}\+ curl:amd64 7\.88\.1-10$/m);
    assert.match(text.stdout, /^ {2}- wget:amd64 1\.21\.3-1$/m);
  });

  it("compares disks through the images they were built from, saying whether the disks differ", async () => {
    const disk = (seed: string) => Buffer.from(`QFI\xfb disk ${seed}`, "latin1");
    const annotations = {
      "dev.strata.disk.format": "qcow2",
      "dev.strata.disk.virtual-size": "1048576",
      "dev.strata.disk.boot": "bios",
    };
    const d1 = await attach(digests.v1 ?? "", MediaType.DiskArtifact, disk("1"), "disk1", {
      layerType: MediaType.DiskQcow2,
      annotations,
    });
    const d2 = await attach(digests.v2 ?? "", MediaType.DiskArtifact, disk("2"), "disk2", {
      layerType: MediaType.DiskQcow2,
      annotations,
    });
    const result = await strata([
      "diff",
      "--json",
      "--files",
      "--config",
      `oci-layout:${layout}:disk1`,
      `oci-layout:${layout}:disk2`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const d = JSON.parse(result.stdout) as DiffJson;
    assert.deepEqual(d.disk, { before: d1, after: d2, same: false });
    checkDiff(d);
    const text = await strata([
      "diff",
      "--config",
      `oci-layout:${layout}:disk1`,
      `oci-layout:${layout}:disk2`,
    ]);
    assert.match(text.stdout, /^Disks: sha256:[0-9a-f]{12}… → sha256:[0-9a-f]{12}… \(the disks differ/m);
  });

  it("compares images on a real strata serve, read where they are", async () => {
    for (const tag of ["v1", "v2"]) {
      const copied = await strata([
        "copy",
        `oci-layout:${layout}:${tag}`,
        `${server.host}/builds/web:${tag}`,
      ]);
      assert.equal(copied.code, 0, copied.stderr);
    }
    const result = await strata(["diff", "--json", "--server", server.url, "builds/web:v1", "builds/web:v2"]);
    assert.equal(result.code, 0, result.stderr);
    const d = JSON.parse(result.stdout) as DiffJson;
    checkDiff(d);
    // The SBOM referrers travelled with the copy.
    assert.equal(d.packages?.available, true);
    // A registry reference and a layout compared with each other, by digest.
    const mixed = await strata([
      "diff",
      "--json",
      "--files",
      `${server.host}/builds/web@${digests.v1}`,
      `oci-layout:${layout}:v2`,
    ]);
    assert.equal(mixed.code, 0, mixed.stderr);
    checkDiff({ ...(JSON.parse(mixed.stdout) as DiffJson), config: EXPECTED_CONFIG });
  });

  it("compares two versions of a gallery definition on the server", async () => {
    const steps = [
      ["gallery", "create", "prod", "--server", server.url],
      [
        "image",
        "define",
        "prod/web",
        "--kind",
        "container",
        "--os",
        "linux",
        "--arch",
        HOST_ARCH,
        "--server",
        server.url,
      ],
      ["version", "publish", "prod/web", "1.1.0", "--from", "builds/web:v1", "--server", server.url],
      ["version", "publish", "prod/web", "1.2.0", "--from", "builds/web:v2", "--server", server.url],
    ];
    for (const step of steps) {
      const done = await strata(step);
      assert.equal(done.code, 0, `${step.join(" ")}: ${done.stderr}`);
    }
    const result = await strata([
      "diff",
      "--json",
      "--server",
      server.url,
      "prod/web:1.1.0",
      "prod/web:1.2.0",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const d = JSON.parse(result.stdout) as DiffJson & { before: { digest: string } };
    checkDiff(d);
    assert.equal(d.before.digest, digests.v1);
  });

  it("fails clearly on an unknown reference, a non-image and a corrupt layer, exiting non-zero", async () => {
    const before = await readFile(join(layout, "index.json"), "utf8");
    const unknown = await strata(["diff", `oci-layout:${layout}:v1`, "no-such/image:1.0"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: No image "no-such\/image:1\.0" in the local store/);
    const missingTag = await strata(["diff", `oci-layout:${layout}:v1`, `oci-layout:${layout}:v9`]);
    assert.notEqual(missingTag.code, 0);
    assert.match(missingTag.stderr, /v9/);
    const onServer = await strata(["diff", "--server", server.url, "builds/web:v1", "builds/web:v404"]);
    assert.equal(onServer.code, 1);
    assert.match(onServer.stderr, /^Error: .*v404/);
    const sbom = await strata(["diff", `oci-layout:${layout}:sbom1`, `oci-layout:${layout}:v2`]);
    assert.equal(sbom.code, 1);
    assert.match(
      sbom.stderr,
      /^Error: "oci-layout:.*:sbom1" is not an image: it is an artifact of type "application\/vnd\.in-toto\+json"/,
    );
    const usage = await strata([
      "diff",
      "--max-files",
      "many",
      `oci-layout:${layout}:v1`,
      `oci-layout:${layout}:v2`,
    ]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Invalid --max-files "many"/);
    // A copy of the layout whose top layer of v2 was damaged on disk.
    const broken = join(work, "broken");
    await cp(layout, broken, { recursive: true });
    const manifest = JSON.parse(await readFile(blobPath(broken, digests.v2 ?? ""), "utf8")) as {
      layers: { digest: string }[];
    };
    const top = manifest.layers.at(-1)?.digest ?? "";
    const bytes = await readFile(blobPath(broken, top));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    await writeFile(blobPath(broken, top), bytes);
    const corrupt = await strata(["diff", `oci-layout:${broken}:v1`, `oci-layout:${broken}:v2`]);
    assert.equal(corrupt.code, 1);
    assert.match(
      corrupt.stderr,
      new RegExp(`^Error: Cannot read layer 3 of oci-layout:.*:v2 \\(${top}\\): .*(digest|mismatch)`, "m"),
    );
    // Nothing was written by any of them.
    assert.equal(await readFile(join(layout, "index.json"), "utf8"), before);
  });
});
