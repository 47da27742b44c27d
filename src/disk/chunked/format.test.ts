// The chunked disk format: the index blob reads back as written, and every malformed index is
// refused with what is wrong — extents that overlap, come out of order, leave gaps or do not add
// up to the disk, chunks of the wrong length, an index over the size limit (compressed or once
// decompressed), bytes that are not gzip or not JSON — as is an artifact whose parts do not list
// every chunk. The manifests built over an index are checked against the layout reader.
import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, it } from "node:test";
import {
  digestOf,
  MediaType,
  parseManifest,
  type Descriptor,
  type Digest,
  type ImageIndex,
} from "../../oci/index.ts";
import { DiskError } from "../errors.ts";
import {
  buildChunkedArtifact,
  checkPartsCover,
  chunkDescriptor,
  chunkedLayout,
  decodeIndex,
  EMPTY_DESCRIPTOR,
  encodeIndex,
  groupParts,
  INDEX_SCHEMA,
  indexBlobOf,
  PART_MAX,
  type ChunkEntry,
  type DiskIndex,
} from "./format.ts";

const hex = (n: number): string => n.toString(16).padStart(64, "0");
const chunk = (n: number, rawLength: number, encoding: "gzip" | "none" = "gzip"): ChunkEntry => ({
  digest: `sha256:${hex(encoding === "none" ? 0x1000 + n : n)}` as Digest,
  size: encoding === "none" ? rawLength : Math.ceil(rawLength / 3),
  rawSha256: hex(0x1000 + n),
  rawLength,
  encoding,
});

const INDEX: DiskIndex = {
  size: 1000,
  digest: digestOf("the whole disk"),
  chunking: { min: 16384, avg: 65536, max: 262144, holeMin: 65536 },
  chunks: [chunk(1, 100), chunk(2, 300, "none"), chunk(3, 200)],
  extents: [
    { offset: 0, length: 100, chunk: 0 },
    { offset: 100, length: 300, chunk: 1 },
    { offset: 400, length: 100, chunk: 0 },
    { offset: 500, length: 300, chunk: -1 },
    { offset: 800, length: 200, chunk: 2 },
  ],
};

/** The index document as encodeIndex writes it, with `change` applied, gzip'd. */
function blob(change: (doc: Record<string, unknown>) => void = () => undefined): Buffer {
  const doc = JSON.parse(gunzipSync(encodeIndex(INDEX)).toString()) as Record<string, unknown>;
  change(doc);
  return gzipSync(JSON.stringify(doc));
}

const refused = (code: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof DiskError, String(error));
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
  return true;
};
const invalid = (pattern: RegExp) => refused("BAD_DISK", pattern);

describe("disk index", () => {
  it("reads back as written", () => {
    assert.deepEqual(decodeIndex(encodeIndex(INDEX)), INDEX);
  });

  it("refuses extents that overlap, come out of order, leave a gap or do not add up", () => {
    const extents = (list: number[][]) => blob((d) => (d.extents = list));
    assert.throws(
      () =>
        decodeIndex(
          extents([
            [0, 500, -1],
            [400, 600, -1],
          ]),
        ),
      invalid(/extent 1 at 400 overlaps the extent before it, which ends at 500/),
    );
    assert.throws(
      () =>
        decodeIndex(
          extents([
            [0, 500, -1],
            [500, 100, -1],
            [200, 100, -1],
          ]),
        ),
      invalid(/extent 2 at 200 is out of order: the extent before it starts at 500/),
    );
    assert.throws(
      () =>
        decodeIndex(
          extents([
            [0, 500, -1],
            [600, 400, -1],
          ]),
        ),
      invalid(/extent 1 starts at 600, leaving a gap after 500/),
    );
    assert.throws(
      () =>
        decodeIndex(
          extents([
            [0, 500, -1],
            [500, 400, -1],
          ]),
        ),
      invalid(/the extents add up to 900 bytes, not the disk's 1000/),
    );
    assert.throws(
      () =>
        decodeIndex(
          extents([
            [0, 500, -1],
            [500, 500, -1],
            [1000, 10, -1],
          ]),
        ),
      invalid(/the extents add up to 1010 bytes, not the disk's 1000/),
    );
  });

  it("refuses an extent whose length is not its chunk's, or that names no chunk", () => {
    assert.throws(
      () => decodeIndex(blob((d) => ((d.extents as number[][])[0] = [0, 99, 0]))),
      invalid(/extent 0 is 99 bytes long but its chunk 0 holds 100/),
    );
    assert.throws(
      () => decodeIndex(blob((d) => ((d.extents as number[][])[0] = [0, 100, 7]))),
      invalid(/extent 0 names chunk 7, not a chunk of the table/),
    );
    assert.throws(
      () => decodeIndex(blob((d) => ((d.extents as unknown[])[0] = [0, 100]))),
      invalid(/extent 0 is not \[offset, length, chunk\]/),
    );
  });

  it("refuses malformed chunk entries", () => {
    const chunks = (edit: (list: unknown[][]) => void) => blob((d) => edit(d.chunks as unknown[][]));
    assert.throws(
      () => decodeIndex(chunks((l) => l.push([...l[0]!]))),
      invalid(/chunk 3 \(sha256:0+1\) is listed twice/),
    );
    assert.throws(() => decodeIndex(chunks((l) => (l[0]![0] = "xyz"))), invalid(/chunk 0 has digest "xyz"/));
    assert.throws(
      () => decodeIndex(chunks((l) => (l[0]![4] = "zstd"))),
      invalid(/chunk 0 has encoding "zstd"/),
    );
    assert.throws(
      () => decodeIndex(chunks((l) => (l[1]![1] = 299))),
      invalid(/chunk 1 is stored raw but its blob and raw bytes differ/),
    );
    assert.throws(
      () => decodeIndex(chunks((l) => (l[0]![3] = 17 * 1024 * 1024))),
      invalid(/chunk 0 has raw length 17825792/),
    );
  });

  it("refuses an index over the size limit, compressed or decompressed", () => {
    const bytes = encodeIndex(INDEX);
    assert.throws(
      () => decodeIndex(bytes, { maxIndexBytes: bytes.length - 1 }),
      refused("TOO_LARGE", new RegExp(`is ${bytes.length} bytes, over the limit of ${bytes.length - 1}`)),
    );
    // Small compressed, large once decompressed.
    const padded = blob((d) => (d.padding = " ".repeat(1024 * 1024)));
    assert.ok(padded.length < 10_000);
    assert.throws(
      () => decodeIndex(padded, { maxIndexBytes: 100_000 }),
      refused("TOO_LARGE", /decompresses to more than the limit of 100000 bytes/),
    );
  });

  it("refuses bytes that are not gzip'd JSON of the index's schema", () => {
    assert.throws(() => decodeIndex(Buffer.from("{}")), invalid(/not gzip-compressed JSON/));
    assert.throws(() => decodeIndex(gzipSync("not json")), invalid(/not JSON/));
    assert.throws(() => decodeIndex(gzipSync("[1]")), invalid(/not a JSON object/));
    assert.throws(() => decodeIndex(blob((d) => (d.schemaVersion = 2))), invalid(/schemaVersion is 2/));
    assert.throws(
      () => decodeIndex(blob((d) => (d.mediaType = "x/y"))),
      invalid(new RegExp(`mediaType is "x/y", not ${INDEX_SCHEMA.replace(/[.+]/g, "\\$&")}`)),
    );
    assert.throws(() => decodeIndex(blob((d) => (d.size = -1))), invalid(/size -1 is not a positive/));
    assert.throws(() => decodeIndex(blob((d) => (d.digest = "md5:1"))), invalid(/digest "md5:1"/));
    assert.throws(() => decodeIndex(blob((d) => (d.chunks = {}))), invalid(/chunks is not a list/));
  });
});

describe("delta chunks in the index", () => {
  // Chunk 3 is a delta over chunk 2 (which no extent names) and 50 bytes of zeros.
  const delta: ChunkEntry = {
    digest: `sha256:${hex(4)}` as Digest,
    size: 40,
    rawSha256: hex(0x1004),
    rawLength: 200,
    encoding: "delta",
    base: [
      { chunk: 2, offset: 50, length: 150 },
      { chunk: -1, offset: 0, length: 50 },
    ],
  };
  const DELTA: DiskIndex = {
    ...INDEX,
    chunks: [...INDEX.chunks, delta],
    extents: [...INDEX.extents.slice(0, 4), { offset: 800, length: 200, chunk: 3 }],
  };
  const edited = (edit: (chunks: unknown[][]) => void): Buffer => {
    const doc = JSON.parse(gunzipSync(encodeIndex(DELTA)).toString()) as { chunks: unknown[][] };
    edit(doc.chunks);
    return gzipSync(JSON.stringify(doc));
  };
  const withBase = (base: unknown): Buffer => edited((l) => (l[3]![5] = base));

  it("reads back as written, the delta's base spans included", () => {
    assert.deepEqual(decodeIndex(encodeIndex(DELTA)), DELTA);
  });

  it("refuses a delta whose base names a chunk out of range, a delta, or itself", () => {
    assert.throws(
      () => decodeIndex(withBase([[7, 0, 200]])),
      invalid(/delta chunk 3 names base chunk 7, not a chunk of the table/),
    );
    assert.throws(
      () => decodeIndex(withBase([[-2, 0, 200]])),
      invalid(/base span 0 of chunk 3 names chunk -2/),
    );
    assert.throws(
      () => decodeIndex(withBase([[3, 0, 200]])),
      invalid(/delta chunk 3 names itself as its base/),
    );
    // Two deltas naming each other: a cycle, refused as a delta named as a base (depth 1).
    const cycle = edited((l) => {
      l[2]!.splice(4, 1, "delta", [[3, 0, 200]]);
      l[3]![5] = [[2, 0, 200]];
    });
    assert.throws(
      () => decodeIndex(cycle),
      invalid(/delta chunk 2 names delta chunk 3 as its base: a base must be stored whole/),
    );
  });

  it("refuses base spans outside their chunk, or that do not add up to the raw length", () => {
    assert.throws(
      () =>
        decodeIndex(
          withBase([
            [2, 100, 150],
            [-1, 0, 50],
          ]),
        ),
      invalid(/delta chunk 3 takes bytes \[100, 250\) of chunk 2, which holds 200/),
    );
    assert.throws(
      () =>
        decodeIndex(
          withBase([
            [2, 0, 150],
            [-1, 0, 40],
          ]),
        ),
      invalid(/the base spans of delta chunk 3 add up to 190 bytes, not its raw length 200/),
    );
    assert.throws(
      () =>
        decodeIndex(
          withBase([
            [2, 0, 150],
            [-1, 8, 50],
          ]),
        ),
      invalid(/takes zeros from offset 8/),
    );
    assert.throws(
      () =>
        decodeIndex(
          withBase([
            [2, 0, 0],
            [-1, 0, 200],
          ]),
        ),
      invalid(/has offset 0 and length 0/),
    );
    assert.throws(
      () => decodeIndex(withBase([[2, 0]])),
      invalid(/base span 0 of chunk 3 is not \[chunk, offset, length\]/),
    );
    assert.throws(() => decodeIndex(withBase([])), invalid(/delta chunk 3 has no list of base spans/));
  });

  it("refuses a delta without a base and a chunk stored whole with one", () => {
    assert.throws(
      () => decodeIndex(edited((l) => l[3]!.pop())),
      invalid(/chunk 3 is a delta without a base/),
    );
    assert.throws(
      () => decodeIndex(edited((l) => l[0]!.push([[2, 0, 100]]))),
      invalid(/chunk 0 is stored gzip but names a base/),
    );
  });

  it("lists the delta and its base chunks in the parts, the delta by its own media type", () => {
    const artifact = buildChunkedArtifact(DELTA, {});
    const layers = artifact.children.slice(1).map((part) => {
      const manifest = parseManifest(part.bytes);
      assert.equal(manifest.kind, "manifest");
      return manifest.kind === "manifest" ? manifest.layers : [];
    });
    checkPartsCover(DELTA, layers);
    const listed = layers.flat();
    assert.equal(listed.length, DELTA.chunks.length);
    assert.equal(listed.find((l) => l.digest === delta.digest)?.mediaType, MediaType.DiskChunkDelta);
    // A part that lists the delta as a chunk stored whole does not cover it.
    const wrong = layers.map((list) =>
      list.map((l) => (l.digest === delta.digest ? { ...l, mediaType: MediaType.DiskChunkGzip } : l)),
    );
    assert.throws(() => checkPartsCover(DELTA, wrong), invalid(/is 40 bytes \(delta\) in the index/));
  });
});

describe("chunked artifact", () => {
  const annotations = { "dev.strata.disk.format": "chunked" };
  const subject: Descriptor = { mediaType: MediaType.ImageManifest, digest: digestOf("image"), size: 5 };
  const artifact = buildChunkedArtifact(INDEX, annotations, subject);

  it("is an image index over the index manifest and the parts, with the subject", () => {
    const top = parseManifest(artifact.top.bytes) as ImageIndex;
    assert.equal(artifact.top.digest, digestOf(artifact.top.bytes));
    assert.equal(top.kind, "index");
    assert.equal(top.artifactType, MediaType.DiskChunked);
    assert.deepEqual(top.annotations, annotations);
    assert.deepEqual(top.subject, subject);
    const layout = chunkedLayout(top, "test");
    assert.equal(layout.indexManifest.digest, artifact.children[0]!.digest);
    assert.deepEqual(
      layout.parts.map((p) => p.digest),
      artifact.children.slice(1).map((c) => c.digest),
    );
    const head = indexBlobOf(artifact.children[0]!.bytes, "test");
    assert.equal(head.digest, artifact.indexBlob.digest);
    assert.deepEqual(decodeIndex(artifact.indexBlob.bytes), INDEX);
    for (const child of artifact.children) {
      const m = parseManifest(child.bytes);
      assert.ok(m.kind === "manifest");
      assert.deepEqual(m.config, EMPTY_DESCRIPTOR);
    }
    const layers = artifact.children.slice(1).map((c) => {
      const m = parseManifest(c.bytes);
      return m.kind === "manifest" ? m.layers : [];
    });
    assert.deepEqual(layers.flat(), INDEX.chunks.map(chunkDescriptor));
    checkPartsCover(INDEX, layers);
  });

  it("refuses parts that miss a chunk or list it differently", () => {
    const [first, second, third] = INDEX.chunks.map(chunkDescriptor);
    assert.throws(
      () => checkPartsCover(INDEX, [[first!], [third!]]),
      invalid(new RegExp(`chunk ${second!.digest} is in no part manifest`)),
    );
    assert.throws(
      () => checkPartsCover(INDEX, [[first!, second!, { ...third!, size: 1 }]]),
      invalid(/is 67 bytes \(gzip\) in the index but 1 bytes/),
    );
    assert.throws(
      () => checkPartsCover(INDEX, [[first!, second!, { ...third!, mediaType: MediaType.DiskChunk }]]),
      invalid(/in the index but 67 bytes \(application\/vnd.strata.disk.chunk.v1\)/),
    );
  });

  it("refuses an index whose children are not the format's", () => {
    const top = parseManifest(artifact.top.bytes) as ImageIndex;
    assert.throws(
      () => chunkedLayout({ ...top, manifests: top.manifests.slice(1) }, "disk"),
      invalid(/disk: its first manifest is not the chunk index/),
    );
    assert.throws(
      () =>
        chunkedLayout(
          { ...top, manifests: [top.manifests[0]!, { ...top.manifests[0]!, artifactType: "x/y" }] },
          "disk",
        ),
      invalid(/is not a part/),
    );
    assert.throws(
      () => indexBlobOf(artifact.children[1]!.bytes, "disk"),
      invalid(/disk: the index manifest is not a application\/vnd.strata.disk.index.v1 holding one/),
    );
    assert.throws(
      () => indexBlobOf(Buffer.from("{"), "disk"),
      invalid(/disk: its index manifest is invalid/),
    );
  });

  it("takes children whose artifactType a copier dropped", () => {
    const top = parseManifest(artifact.top.bytes) as ImageIndex;
    const bare = top.manifests.map(({ artifactType: _, ...rest }) => rest);
    const layout = chunkedLayout({ ...top, manifests: bare }, "disk");
    assert.deepEqual(layout.indexManifest, bare[0]);
    assert.deepEqual(layout.parts, bare.slice(1));
  });

  it("cuts parts where a raw digest says, so unchanged runs give the same parts", () => {
    const many: ChunkEntry[] = Array.from({ length: 5000 }, (_, i) => ({
      ...chunk(i + 1, 100),
      rawSha256: digestOf(`chunk ${i}`).slice(7),
    }));
    const parts = groupParts(many);
    assert.deepEqual(parts.flat(), many);
    assert.ok(parts.length > 3 && parts.every((p) => p.length <= PART_MAX));
    // Changing one chunk's digest changes at most the parts around it.
    const changed = [...many];
    changed[2500] = { ...many[2500]!, rawSha256: digestOf("changed").slice(7) };
    const key = (p: ChunkEntry[]) => p.map((c) => c.rawSha256).join();
    const before = new Set(groupParts(many).map(key));
    const differing = groupParts(changed).filter((p) => !before.has(key(p)));
    assert.ok(differing.length <= 2, `${differing.length} parts differ`);
  });
});
