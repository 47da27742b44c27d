// copyImage between OCI layouts: an index with every platform (or one), referrers listed the
// way other tools list them and referrers of referrers, all arriving with their digests; a
// damaged blob stops the copy before anything is tagged or stored under its digest.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { randomIndex, writeOciLayout, type TestIndex } from "../../test/helpers/images.ts";
import { EMPTY_CONFIG, imageManifest } from "../../test/helpers/manifests.ts";
import { digestOf, MediaType } from "../oci/index.ts";
import { copyImage } from "./copy.ts";
import { RemoteError } from "./errors.ts";
import { createLayoutEndpoint } from "./layout-endpoint.ts";
import { layoutBlobs, reachable } from "./layout-gc.ts";
import { readIndex } from "./layout.ts";

let work: string;
let index: TestIndex;
/** An SBOM-like referrer of the index, and a signature-like referrer of the SBOM. */
let sbom: Buffer;
let signature: Buffer;

async function writeBlob(dir: string, bytes: Buffer): Promise<void> {
  await writeFile(join(dir, "blobs/sha256", digestOf(bytes).slice(7)), bytes);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-copy-"));
  index = await randomIndex({ seed: 7 });
  const src = join(work, "src");
  await writeOciLayout(src, [index], { tags: ["v1"] });
  const subject = (bytes: Buffer, mediaType: string) => ({
    mediaType,
    digest: digestOf(bytes),
    size: bytes.length,
  });
  const sbomBody = Buffer.from('{"sbom":true}');
  sbom = imageManifest(EMPTY_CONFIG, [sbomBody], {
    artifactType: "application/spdx+json",
    subject: subject(index.manifest, MediaType.ImageIndex),
  });
  signature = imageManifest(EMPTY_CONFIG, [], {
    artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    subject: subject(sbom, MediaType.ImageManifest),
  });
  for (const bytes of [sbomBody, EMPTY_CONFIG, sbom, signature]) await writeBlob(src, bytes);
  const json = JSON.parse(await readFile(join(src, "index.json"), "utf8")) as { manifests: unknown[] };
  // The SBOM listed as other tools do (no annotation), the signature as Strata does.
  json.manifests.push(
    { mediaType: MediaType.ImageManifest, digest: digestOf(sbom), size: sbom.length },
    {
      mediaType: MediaType.ImageManifest,
      digest: digestOf(signature),
      size: signature.length,
      annotations: { "dev.strata.subject": digestOf(sbom) },
    },
  );
  await writeFile(join(src, "index.json"), JSON.stringify(json));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("copyImage", () => {
  it("copies an index, every platform and the referrers of referrers, digests unchanged", async () => {
    const dst = join(work, "all");
    const result = await copyImage(createLayoutEndpoint(join(work, "src")), "v1", createLayoutEndpoint(dst), {
      tag: "copied",
      scratch: work,
    });
    assert.equal(result.digest, index.manifestDigest);
    assert.equal(result.manifests, 5, "the index, two images, the SBOM and the signature");
    assert.deepEqual(
      result.referrers.map((r) => [r.digest, r.subject, r.indexed]),
      [
        [digestOf(signature), digestOf(sbom), "layout"],
        [digestOf(sbom), index.manifestDigest, "layout"],
      ],
    );
    const entries = (await readIndex(dst)).manifests;
    assert.deepEqual(
      entries.map((e) => [e.digest, e.annotations]),
      [
        [index.manifestDigest, { "org.opencontainers.image.ref.name": "copied" }],
        [digestOf(signature), { "dev.strata.subject": digestOf(sbom) }],
        [digestOf(sbom), { "dev.strata.subject": index.manifestDigest }],
      ],
    );
    for (const [digest, bytes] of index.blobs)
      assert.deepEqual(await readFile(join(dst, "blobs/sha256", digest.slice(7))), bytes);
    // Everything copied is reachable from the tag: nothing for a prune to take.
    const reached = await reachable(dst);
    assert.deepEqual(
      (await layoutBlobs(dst)).filter((b) => !reached.blobs.has(b.digest)),
      [],
    );
  });

  it("copies one platform's image of an index with --platform", async () => {
    const dst = join(work, "arm");
    const arm = index.images[1];
    assert.ok(arm !== undefined);
    const result = await copyImage(createLayoutEndpoint(join(work, "src")), "v1", createLayoutEndpoint(dst), {
      tag: "arm",
      platform: { os: "linux", architecture: "arm64" },
      scratch: work,
    });
    assert.equal(result.digest, arm.manifestDigest);
    assert.deepEqual(result.referrers, [], "the referrers name the index, which was not copied");
    assert.deepEqual(
      (await layoutBlobs(dst)).map((b) => b.digest).sort(),
      [arm.manifestDigest, ...arm.blobs.keys()].sort(),
    );
    await assert.rejects(
      copyImage(createLayoutEndpoint(join(work, "src")), "v1", createLayoutEndpoint(join(work, "none")), {
        platform: { os: "linux", architecture: "s390x" },
        scratch: work,
      }),
      /has no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/,
    );
  });

  it("stops at a damaged blob: nothing is tagged or stored under its digest", async () => {
    const src = join(work, "damaged");
    await writeOciLayout(src, [index], { tags: ["v1"] });
    const layer = index.images[0]?.layers[0];
    assert.ok(layer !== undefined);
    const path = join(src, "blobs/sha256", layer.digest.slice(7));
    const bytes = await readFile(path);
    bytes.writeUInt8((bytes.at(-1) ?? 0) ^ 0xff, bytes.length - 1);
    await writeFile(path, bytes);
    const dst = join(work, "refused");
    await assert.rejects(
      copyImage(createLayoutEndpoint(src), "v1", createLayoutEndpoint(dst), { tag: "v1", scratch: work }),
      (error: unknown) => error instanceof RemoteError && error.message.includes(layer.digest),
    );
    await assert.rejects(stat(join(dst, "blobs/sha256", layer.digest.slice(7))), { code: "ENOENT" });
    assert.deepEqual((await readIndex(dst)).manifests, []);
  });
});
