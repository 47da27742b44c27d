// The store as an Endpoint: an image copied from an OCI layout into a repository of a real
// store (SQLite metadata, filesystem pool) reads back byte for byte, a referrer written through
// it is listed as the referrers API lists it, and a manifest naming a blob the repository does
// not hold is refused with nothing stored.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType } from "../oci/index.ts";
import { copyImage, createLayoutEndpoint } from "../remote/index.ts";
import {
  createFsBlobStore,
  createMetadataStore,
  type BlobStore,
  type MetadataStore,
} from "../store/index.ts";
import { busyboxLayout } from "../../test/helpers/busybox-layout.ts";
import { storeEndpoint } from "./store-endpoint.ts";

let dir: string;
let meta: MetadataStore;
let blobs: BlobStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-store-endpoint-"));
  meta = await createMetadataStore(`sqlite:${join(dir, "meta.db")}`);
  blobs = createFsBlobStore({ root: join(dir, "blobs") });
});
after(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

const EMPTY = Buffer.from("{}");

describe("storeEndpoint", () => {
  it("receives an image copied from a layout and reads it back", async () => {
    const layout = await busyboxLayout();
    const target = storeEndpoint({ meta, blobs }, "prod/busybox");
    const copied = await copyImage(createLayoutEndpoint(layout.dir), layout.tag, target, {
      tag: "1.0.0",
      scratch: dir,
    });
    const resolved = await target.resolve("1.0.0");
    assert.equal(resolved.digest, copied.digest);
    assert.equal(resolved.digest, layout.image.manifestDigest);
    const bytes = await target.readManifest(copied.digest);
    assert.equal(digestOf(bytes), copied.digest);
    const manifest = JSON.parse(bytes.toString("utf8")) as {
      layers: { digest: string; size: number; mediaType: string }[];
    };
    const layer = manifest.layers[0]!;
    assert.equal(await target.hasBlob(layer), true);
    const out = join(dir, "layer");
    await target.fetchBlob(layer, out);
    assert.equal(digestOf(await readFile(out)), layer.digest);
  });

  it("lists a referrer written through it, as the referrers API does", async () => {
    const target = storeEndpoint({ meta, blobs }, "prod/busybox");
    const subject = await target.resolve("1.0.0");
    const payload = Buffer.from('{"note":"hello"}');
    const emptyDigest = digestOf(EMPTY);
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        artifactType: "application/vnd.example.note+json",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyDigest, size: 2 },
        layers: [
          { mediaType: "application/vnd.example.note+json", digest: digestOf(payload), size: payload.length },
        ],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
        annotations: { "org.example.kind": "note" },
      }),
    );
    await target.putBlob(
      { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyDigest, size: 2 },
      { bytes: EMPTY },
    );
    await target.putBlob(
      { mediaType: "application/vnd.example.note+json", digest: digestOf(payload), size: payload.length },
      { bytes: payload },
    );
    const entry = { mediaType: MediaType.ImageManifest, digest: digestOf(referrer), size: referrer.length };
    await target.putManifest(entry, referrer);
    const listed = await target.referrers(subject.digest);
    assert.deepEqual(
      listed.map((r) => [r.digest, r.artifactType, r.annotations?.["org.example.kind"]]),
      [[entry.digest, "application/vnd.example.note+json", "note"]],
    );
    // The metadata store's own view, which the registry's referrers API answers from.
    const rows = await meta.manifests.referrers("prod/busybox", subject.digest as never);
    assert.deepEqual(
      rows.map((r) => r.digest),
      [entry.digest],
    );
  });

  it("refuses a manifest naming a blob the repository lacks, storing nothing", async () => {
    const target = storeEndpoint({ meta, blobs }, "prod/other");
    const missing = digestOf("not stored anywhere");
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: missing, size: 19 },
        layers: [],
      }),
    );
    const entry = { mediaType: MediaType.ImageManifest, digest: digestOf(bytes), size: bytes.length };
    await assert.rejects(
      target.putManifest(entry, bytes, "x"),
      /names "sha256:[0-9a-f]+", which "prod\/other" does not hold/,
    );
    assert.equal(await meta.manifests.get("prod/other", entry.digest as never), undefined);
    assert.equal(await meta.manifests.resolve("prod/other", "x"), undefined);
    await assert.rejects(target.resolve("x"), /has no manifest/);
  });
});
