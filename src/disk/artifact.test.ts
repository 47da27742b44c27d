// The disk artifact: the manifest as the contract has it, read back by describeDisk (a chunked
// disk's image index too), other manifests refused by name; pulls through a small registry that
// can lie about a blob, where a damaged or foreign blob leaves an existing output file as it was
// and nothing staged behind.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EMPTY_CONFIG, imageManifest } from "../../test/helpers/manifests.ts";
import { digestOf, MediaType } from "../oci/index.ts";
import { RegistryClient } from "../remote/index.ts";
import { createDiskArtifact, describeDisk, DiskAnnotation, pullDisk, type DiskArtifact } from "./artifact.ts";
import { buildChunkedArtifact } from "./chunked/format.ts";
import { DiskError } from "./errors.ts";

/** Not a real disk: the qcow2 magic and some bytes, which is all the artifact code looks at. */
const QCOW2 = Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), Buffer.alloc(1024, 7)]);
const RAW_DIGEST = digestOf("raw disk bytes");
const IMAGE = imageManifest(EMPTY_CONFIG, [Buffer.from("layer")]);
const CREATED = new Date("2026-01-02T03:04:05.000Z");

let work: string;
let disk: string;
let artifact: DiskArtifact;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-disk-artifact-"));
  disk = join(work, "disk.qcow2");
  await writeFile(disk, QCOW2);
  artifact = await createDiskArtifact(disk, {
    virtualSize: 64 * 2 ** 20,
    boot: "uefi",
    rawDigest: RAW_DIGEST,
    source: { digest: digestOf(IMAGE), size: IMAGE.length, mediaType: MediaType.ImageManifest },
    created: CREATED,
  });
});
after(() => rm(work, { recursive: true, force: true }));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest edited at will
type Loose = Record<string, any>;
const edit = (change: (m: Loose) => void): Buffer => {
  const m = JSON.parse(artifact.manifest.toString()) as Loose;
  change(m);
  return Buffer.from(JSON.stringify(m));
};

/** A chunked disk's image index (format.ts) with the annotations pushChunkedDisk writes. */
function chunkedIndex(change: (m: Loose) => void = () => undefined): Buffer {
  const chunk = { digest: digestOf("stored"), size: 6, rawSha256: "a".repeat(64), rawLength: 4096 };
  const { top } = buildChunkedArtifact(
    {
      size: 8192,
      digest: RAW_DIGEST,
      chunking: { min: 16384, avg: 65536, max: 262144, holeMin: 65536 },
      chunks: [{ ...chunk, encoding: "gzip" }],
      extents: [
        { offset: 0, length: 4096, chunk: 0 },
        { offset: 4096, length: 4096, chunk: -1 },
      ],
    },
    {
      [DiskAnnotation.format]: "chunked",
      [DiskAnnotation.virtualSize]: "8192",
      [DiskAnnotation.boot]: "bios",
      [DiskAnnotation.rawDigest]: RAW_DIGEST,
      [DiskAnnotation.created]: CREATED.toISOString(),
    },
  );
  const m = JSON.parse(top.bytes.toString()) as Loose;
  change(m);
  return Buffer.from(JSON.stringify(m));
}

describe("disk artifact manifest", () => {
  it("is an OCI manifest with the disk artifact type, the empty config and one qcow2 layer", () => {
    const m = JSON.parse(artifact.manifest.toString());
    assert.equal(artifact.digest, digestOf(artifact.manifest));
    assert.equal(m.mediaType, MediaType.ImageManifest);
    assert.equal(m.artifactType, "application/vnd.strata.disk.v1");
    assert.deepEqual(m.config, {
      mediaType: "application/vnd.oci.empty.v1+json",
      digest: digestOf("{}"),
      size: 2,
    });
    assert.deepEqual(m.layers, [
      {
        mediaType: "application/vnd.strata.disk.qcow2",
        digest: digestOf(QCOW2),
        size: QCOW2.length,
        annotations: { "org.opencontainers.image.title": "disk.qcow2" },
      },
    ]);
    assert.deepEqual(m.subject, {
      mediaType: MediaType.ImageManifest,
      digest: digestOf(IMAGE),
      size: IMAGE.length,
    });
    assert.deepEqual(m.annotations, {
      "dev.strata.disk.format": "qcow2",
      "dev.strata.disk.virtual-size": String(64 * 2 ** 20),
      "dev.strata.disk.boot": "uefi",
      "dev.strata.disk.raw-digest": RAW_DIGEST,
      "org.opencontainers.image.base.digest": digestOf(IMAGE),
      "org.opencontainers.image.created": "2026-01-02T03:04:05.000Z",
    });
  });

  it("is described back from its bytes", () => {
    const d = describeDisk(artifact.manifest, MediaType.ImageManifest);
    assert.equal(d.digest, artifact.digest);
    assert.equal(d.virtualSize, 64 * 2 ** 20);
    assert.equal(d.boot, "uefi");
    assert.equal(d.rawDigest, RAW_DIGEST);
    assert.equal(d.baseDigest, digestOf(IMAGE));
    assert.equal(d.subject?.digest, digestOf(IMAGE));
    assert.equal(d.layout, "qcow2");
    assert.deepEqual(d.layout === "qcow2" && d.layer, { digest: digestOf(QCOW2), size: QCOW2.length });
  });

  it("describes a chunked disk's image index, also with the artifact types a copier drops", () => {
    for (const bytes of [
      chunkedIndex(),
      chunkedIndex((m) => {
        delete m.artifactType;
        for (const child of m.manifests) delete child.artifactType;
      }),
    ]) {
      const d = describeDisk(bytes, MediaType.ImageIndex);
      assert.equal(d.digest, digestOf(bytes));
      assert.equal(d.layout, "chunked");
      assert.equal(d.format, "chunked");
      assert.equal(d.virtualSize, 8192);
      assert.equal(d.rawDigest, RAW_DIGEST);
      const m = JSON.parse(bytes.toString()) as Loose;
      assert.deepEqual(d.layout === "chunked" && d.chunked.indexManifest.digest, m.manifests[0].digest);
      assert.equal(d.layout === "chunked" && d.chunked.parts.length, 1);
    }
  });

  it("has no subject or base digest when made from no image, and the same bytes for the same input", async () => {
    const input = { virtualSize: 2 ** 20, boot: "bios" as const, created: CREATED };
    const a = await createDiskArtifact(disk, input);
    const b = await createDiskArtifact(disk, input);
    assert.equal(a.digest, b.digest);
    const m = JSON.parse(a.manifest.toString());
    assert.equal(m.subject, undefined);
    assert.equal(m.annotations[DiskAnnotation.baseDigest], undefined);
    assert.equal(m.annotations[DiskAnnotation.rawDigest], undefined);
  });

  it("is made only from a qcow2 file and sound metadata", async () => {
    const raw = join(work, "disk.raw");
    await writeFile(raw, Buffer.alloc(4096));
    await assert.rejects(createDiskArtifact(raw, { virtualSize: 4096, boot: "bios" }), /is not a qcow2 file/);
    await assert.rejects(
      createDiskArtifact(join(work, "missing.qcow2"), { virtualSize: 4096, boot: "bios" }),
      /Cannot read disk .*ENOENT/,
    );
    await assert.rejects(
      createDiskArtifact(disk, { virtualSize: 0, boot: "bios" }),
      /Invalid virtual size 0/,
    );
    await assert.rejects(
      createDiskArtifact(disk, { virtualSize: 4096, boot: "efi" as "uefi" }),
      /Invalid boot mode "efi"/,
    );
    await assert.rejects(
      createDiskArtifact(disk, { virtualSize: 4096, boot: "bios", rawDigest: "sha256:abc" }),
      /Invalid raw digest/,
    );
  });

  const refusals: { name: string; bytes: () => Buffer; want: RegExp }[] = [
    { name: "a container image", bytes: () => IMAGE, want: /it is a container image/ },
    {
      name: "an index",
      bytes: () =>
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] })),
      want: /it is an image index/,
    },
    {
      name: "another artifact type",
      bytes: () => edit((m) => (m.artifactType = "application/spdx+json")),
      want: /its artifactType is "application\/spdx\+json"/,
    },
    {
      name: "two layers",
      bytes: () => edit((m) => m.layers.push(m.layers[0])),
      want: /it has 2 layers, not one/,
    },
    {
      name: "a raw layer",
      bytes: () => edit((m) => (m.layers[0].mediaType = "application/vnd.strata.disk.raw")),
      want: /its layer is "application\/vnd.strata.disk.raw"/,
    },
    {
      name: "a stored format other than qcow2",
      bytes: () => edit((m) => (m.annotations[DiskAnnotation.format] = "vmdk")),
      want: /dev.strata.disk.format is "vmdk", not qcow2/,
    },
    {
      name: "no virtual size",
      bytes: () => edit((m) => delete m.annotations[DiskAnnotation.virtualSize]),
      want: /virtual-size is "", not a byte count/,
    },
    {
      name: "a negative virtual size",
      bytes: () => edit((m) => (m.annotations[DiskAnnotation.virtualSize] = "-1")),
      want: /virtual-size is "-1"/,
    },
    {
      name: "an unknown boot mode",
      bytes: () => edit((m) => (m.annotations[DiskAnnotation.boot] = "coreboot")),
      want: /dev.strata.disk.boot is "coreboot", not bios or uefi/,
    },
    {
      name: "a malformed base digest",
      bytes: () => edit((m) => (m.annotations[DiskAnnotation.baseDigest] = "sha256:nope")),
      want: /base.digest is "sha256:nope", not a digest/,
    },
    { name: "bytes that are not JSON", bytes: () => Buffer.from("qcow2?"), want: /is not a disk artifact/ },
    {
      name: "a manifest with the chunked artifact type",
      bytes: () => edit((m) => (m.artifactType = MediaType.DiskChunked)),
      want: /a chunked disk is an image index, not a manifest/,
    },
    {
      name: "a chunked disk whose format annotation says qcow2",
      bytes: () => chunkedIndex((m) => (m.annotations[DiskAnnotation.format] = "qcow2")),
      want: /dev.strata.disk.format is "qcow2", not chunked/,
    },
    {
      name: "a chunked disk whose first child is not its chunk index",
      bytes: () => chunkedIndex((m) => m.manifests.reverse()),
      want: /its first manifest is not the chunk index/,
    },
  ];
  for (const r of refusals)
    it(`refuses ${r.name}`, () => {
      assert.throws(
        () => describeDisk(r.bytes()),
        (error: unknown) =>
          error instanceof DiskError && error.code === "BAD_DISK" && r.want.test(error.message),
      );
    });
});

describe("pullDisk", () => {
  /** Serves one manifest and one blob body under the artifact's layer digest. */
  let server: Server;
  let manifest: Buffer;
  let blob: Buffer;
  let client: RegistryClient;
  before(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? "";
      if (url === "/v2/") return void res.end("{}");
      if (url.startsWith("/v2/vm/disk/manifests/")) {
        res.setHeader("content-type", MediaType.ImageManifest);
        return void res.end(manifest);
      }
      if (url.startsWith("/v2/vm/disk/blobs/")) return void res.end(blob);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = new RegistryClient({
      registry: `127.0.0.1:${(server.address() as AddressInfo).port}`,
      insecure: true,
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("writes the verified disk to the output file", async () => {
    manifest = artifact.manifest;
    blob = QCOW2;
    const out = join(work, "pulled.qcow2");
    const d = await pullDisk(client, "vm/disk", "1.0.0", out);
    assert.equal(d.digest, artifact.digest);
    assert.deepEqual(await readFile(out), QCOW2);
  });

  const failures = [
    {
      name: "a blob that does not match its digest",
      blob: () => Buffer.concat([QCOW2.subarray(0, -1), Buffer.from([0])]),
      want: /digest/i,
    },
    { name: "a blob of another size", blob: () => QCOW2.subarray(0, 100), want: /size|bytes/i },
    {
      name: "a blob that is not qcow2",
      blob: () => Buffer.alloc(QCOW2.length),
      manifest: async () => {
        const raw = join(work, "fake.qcow2");
        await writeFile(raw, QCOW2);
        const a = await createDiskArtifact(raw, { virtualSize: 4096, boot: "bios" });
        // Same layer size, digest of the zeros: the registry serves what the manifest names.
        return Buffer.from(
          a.manifest.toString().replace(digestOf(QCOW2), digestOf(Buffer.alloc(QCOW2.length))),
        );
      },
      want: /is not a qcow2 file/,
    },
    {
      name: "a container image",
      blob: () => QCOW2,
      manifest: async () => IMAGE,
      want: /not a disk artifact/,
    },
  ];
  for (const f of failures)
    it(`leaves an existing output as it was on ${f.name}`, async () => {
      manifest = f.manifest === undefined ? artifact.manifest : await f.manifest();
      blob = f.blob();
      const dir = await mkdtemp(join(work, "out-"));
      const out = join(dir, "disk.qcow2");
      await writeFile(out, "before");
      await assert.rejects(pullDisk(client, "vm/disk", "1.0.0", out), f.want);
      assert.equal(await readFile(out, "utf8"), "before");
      assert.deepEqual(await readdir(dir), ["disk.qcow2"]);
    });
});
