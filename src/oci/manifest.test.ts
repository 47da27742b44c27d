// Manifests and indexes from untrusted bytes: OCI, Docker schema2 and lists; everything else,
// and every malformed shape, is refused with MANIFEST_INVALID and a message naming the problem.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { digestOf } from "./digest.ts";
import { effectiveArtifactType, parseManifest, referencedDigests, requiredBlobs } from "./manifest.ts";
import { MediaType } from "./media-types.ts";
import { throwsOci } from "../../test/helpers/oci-assert.ts";

const throwsManifest = (fn: () => unknown, pattern: RegExp): void =>
  throwsOci(fn, "MANIFEST_INVALID", pattern);

const enc = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

function descriptor(mediaType: string, content: string, extra: Record<string, unknown> = {}) {
  return { mediaType, digest: digestOf(content), size: Buffer.byteLength(content), ...extra };
}

const config = descriptor(MediaType.ImageConfig, '{"architecture":"amd64","os":"linux"}');
const layer1 = descriptor(MediaType.ImageLayerGzip, "layer one");
const layer2 = descriptor(MediaType.ImageLayerGzip, "layer two");
const foreign = descriptor(MediaType.ImageLayerNondistributableGzip, "foreign", {
  urls: ["https://example.com/foreign.tar.gz"],
});
const image = { schemaVersion: 2, mediaType: MediaType.ImageManifest, config, layers: [layer1, layer2] };
const child = descriptor(MediaType.ImageManifest, JSON.stringify(image), {
  platform: { architecture: "amd64", os: "linux" },
});
const index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [child] };
const dockerConfig = descriptor(MediaType.DockerConfig, "{}");
const dockerLayer = descriptor(MediaType.DockerLayer, "docker layer");
const docker = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: dockerConfig,
  layers: [dockerLayer],
};
const dockerChild = descriptor(MediaType.DockerManifest, JSON.stringify(docker), {
  platform: { architecture: "arm", os: "linux", variant: "v7" },
});
const dockerList = { schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [dockerChild] };
const withoutMediaType = ({ mediaType: _, ...rest }: Record<string, unknown>) => rest;

describe("parseManifest accepts", () => {
  const cases: {
    name: string;
    body: unknown;
    contentType?: string;
    kind: "manifest" | "index";
    mediaType: string;
  }[] = [
    { name: "an OCI image manifest", body: image, kind: "manifest", mediaType: MediaType.ImageManifest },
    {
      name: "an OCI manifest with a matching Content-Type",
      body: image,
      contentType: MediaType.ImageManifest,
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "a Content-Type with parameters and odd case",
      body: image,
      contentType: "Application/VND.OCI.image.manifest.v1+json; charset=utf-8",
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "an OCI manifest without mediaType, typed by Content-Type",
      body: withoutMediaType(image),
      contentType: MediaType.ImageManifest,
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "an OCI manifest without mediaType or Content-Type (inferred)",
      body: withoutMediaType(image),
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "an empty Content-Type",
      body: withoutMediaType(image),
      contentType: "",
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "a manifest without layers entries",
      body: { ...image, layers: [] },
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "an artifact with an empty config and no artifactType (as the conformance suite pushes)",
      body: { ...image, config: descriptor(MediaType.Empty, "{}") },
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    {
      name: "an artifact with subject, artifactType and annotations",
      body: {
        ...image,
        artifactType: "application/vnd.example.sbom",
        config: descriptor(MediaType.Empty, "{}", { data: "e30=" }),
        subject: child,
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
      },
      kind: "manifest",
      mediaType: MediaType.ImageManifest,
    },
    { name: "an OCI index", body: index, kind: "index", mediaType: MediaType.ImageIndex },
    {
      name: "an OCI index without mediaType (inferred)",
      body: withoutMediaType(index),
      kind: "index",
      mediaType: MediaType.ImageIndex,
    },
    {
      name: "an empty index",
      body: { ...index, manifests: [] },
      kind: "index",
      mediaType: MediaType.ImageIndex,
    },
    {
      name: "a nested index with unknown entry media types",
      body: { ...index, manifests: [child, descriptor(MediaType.ImageIndex, "{}"), descriptor("a/b", "x")] },
      kind: "index",
      mediaType: MediaType.ImageIndex,
    },
    {
      name: "a Docker schema2 manifest",
      body: docker,
      kind: "manifest",
      mediaType: MediaType.DockerManifest,
    },
    {
      name: "a Docker schema2 manifest with its Content-Type",
      body: docker,
      contentType: MediaType.DockerManifest,
      kind: "manifest",
      mediaType: MediaType.DockerManifest,
    },
    {
      name: "a Docker manifest list",
      body: dockerList,
      kind: "index",
      mediaType: MediaType.DockerManifestList,
    },
    {
      name: "unknown fields, deeply nested",
      body: `{"schemaVersion":2,"manifests":[],"x":${"[".repeat(10_000)}${"]".repeat(10_000)},"y":1.5e3}`,
      kind: "index",
      mediaType: MediaType.ImageIndex,
    },
    {
      name: "whitespace and escaped keys",
      body: ` \n{ "schemaVersion" : 2 , "manifests" : [ ] , "a\\"b" : "c" }\t`,
      kind: "index",
      mediaType: MediaType.ImageIndex,
    },
  ];
  for (const { name, body, contentType, kind, mediaType } of cases) {
    it(name, () => {
      const got = parseManifest(enc(body), contentType);
      assert.equal(got.kind, kind);
      assert.equal(got.mediaType, mediaType);
      assert.equal(got.schemaVersion, 2);
    });
  }

  it("keeps the parsed descriptors", () => {
    const got = parseManifest(enc(image));
    assert.ok(got.kind === "manifest");
    assert.deepEqual(got.config, config);
    assert.deepEqual(got.layers, [layer1, layer2]);
    assert.equal(got.subject, undefined);
    assert.equal(got.annotations, undefined);
  });
});

describe("parseManifest rejects", () => {
  const d = config.digest;
  const cases: { name: string; body: unknown; contentType?: string; pattern: RegExp }[] = [
    // Not a JSON object.
    { name: "empty bytes", body: "", pattern: /not JSON/ },
    { name: "truncated JSON", body: JSON.stringify(image).slice(0, -1), pattern: /not JSON/ },
    { name: "trailing garbage", body: `${JSON.stringify(image)}x`, pattern: /not JSON/ },
    { name: "two documents", body: `${JSON.stringify(image)}${JSON.stringify(image)}`, pattern: /not JSON/ },
    { name: "JSON with comments", body: `// c\n${JSON.stringify(image)}`, pattern: /not JSON/ },
    { name: "single quotes", body: "{'schemaVersion':2}", pattern: /not JSON/ },
    { name: "null", body: "null", pattern: /expected a JSON object, got null/ },
    { name: "an array", body: [image], pattern: /expected a JSON object, got an array/ },
    { name: "a string", body: '"manifest"', pattern: /got string/ },
    { name: "a number", body: "2", pattern: /got number/ },
    { name: "a byte order mark", body: `\ufeff${JSON.stringify(image)}`, pattern: /byte order mark/ },
    { name: "a NUL before the JSON", body: `\0${JSON.stringify(image)}`, pattern: /not JSON: .*\\u0000/ },
    { name: "UTF-16", body: Buffer.from(JSON.stringify(image), "utf16le"), pattern: /not (UTF-8|JSON)/ },
    // Duplicated keys: readers disagree on which copy wins.
    {
      name: "a duplicated mediaType",
      body: `{"schemaVersion":2,"mediaType":"${MediaType.ImageManifest}","mediaType":"${MediaType.ImageIndex}","manifests":[]}`,
      pattern: /duplicate key "mediaType"$/,
    },
    {
      name: "a duplicated key spelled with an escape",
      body: `{"schemaVersion":2,"manifests":[],"\\u006danifests":[]}`,
      pattern: /duplicate key "manifests"/,
    },
    {
      name: "a duplicated digest in a layer",
      body: JSON.stringify(image).replace(
        `"digest":"${layer2.digest}"`,
        `"digest":"${layer2.digest}","digest":"${d}"`,
      ),
      pattern: /duplicate key "digest" in layers\[1\]/,
    },
    {
      name: "a duplicated annotation",
      body: `{"schemaVersion":2,"manifests":[],"annotations":{"a":"1","a":"2"}}`,
      pattern: /duplicate key "a" in annotations/,
    },
    // schemaVersion.
    {
      name: "a missing schemaVersion",
      body: { ...image, schemaVersion: undefined },
      pattern: /schemaVersion must be 2, got none/,
    },
    {
      name: "schemaVersion 1",
      body: { ...image, schemaVersion: 1 },
      pattern: /schema1 manifests are unsupported/,
    },
    { name: 'schemaVersion "2"', body: { ...image, schemaVersion: "2" }, pattern: /must be 2, got "2"/ },
    { name: "schemaVersion 3", body: { ...image, schemaVersion: 3 }, pattern: /got 3/ },
    { name: "schemaVersion null", body: { ...image, schemaVersion: null }, pattern: /got null/ },
    { name: "schemaVersion 2.5", body: { ...image, schemaVersion: 2.5 }, pattern: /got 2\.5/ },
    {
      name: "schemaVersion 2.0",
      body: JSON.stringify(image).replace('"schemaVersion":2', '"schemaVersion":2.0'),
      pattern: /written as the integer 2/,
    },
    {
      name: "schemaVersion 2e0",
      body: JSON.stringify(image).replace('"schemaVersion":2', '"schemaVersion":2e0'),
      pattern: /written as the integer 2/,
    },
    // Docker schema1.
    {
      name: "a schema1 Content-Type",
      body: { schemaVersion: 1, name: "a", tag: "b", fsLayers: [] },
      contentType: MediaType.DockerManifestSchema1,
      pattern: /schema1 manifests are unsupported/,
    },
    {
      name: "a signed schema1 Content-Type, even with a schema2 body",
      body: docker,
      contentType: MediaType.DockerManifestSchema1Signed,
      pattern: /schema1/,
    },
    {
      name: "a schema1 mediaType in the body",
      body: { ...docker, mediaType: MediaType.DockerManifestSchema1 },
      pattern: /schema1/,
    },
    // mediaType and Content-Type.
    { name: "a numeric mediaType", body: { ...image, mediaType: 1 }, pattern: /mediaType is not a string/ },
    {
      name: "a malformed mediaType",
      body: { ...image, mediaType: "manifest" },
      pattern: /mediaType "manifest" is malformed/,
    },
    {
      name: "a config media type as manifest type",
      body: { ...image, mediaType: MediaType.ImageConfig },
      pattern: /unsupported media type/,
    },
    {
      name: "an unsupported Content-Type",
      body: withoutMediaType(image),
      contentType: "application/json",
      pattern: /unsupported media type "application\/json"/,
    },
    {
      name: "a Content-Type that disagrees with the body",
      body: image,
      contentType: MediaType.ImageIndex,
      pattern: /Content-Type ".*index.v1\+json" does not match mediaType ".*manifest.v1\+json"/,
    },
    {
      name: "a Docker Content-Type with no mediaType in the body",
      body: withoutMediaType(docker),
      contentType: MediaType.DockerManifest,
      pattern: /must name its mediaType in the body/,
    },
    {
      name: "a Docker list Content-Type with no mediaType in the body",
      body: withoutMediaType(dockerList),
      contentType: MediaType.DockerManifestList,
      pattern: /must name its mediaType in the body/,
    },
    { name: "no type information at all", body: { schemaVersion: 2 }, pattern: /media type unknown/ },
    {
      name: "both manifests and config without a type",
      body: { schemaVersion: 2, config, layers: [], manifests: [] },
      pattern: /ambiguous/,
    },
    // Image manifest shape.
    { name: "a missing config", body: { ...image, config: undefined }, pattern: /config is missing/ },
    {
      name: "a null config",
      body: { ...image, config: null },
      pattern: /descriptor config: expected an object/,
    },
    {
      name: "a config with a bad digest",
      body: { ...image, config: { ...config, digest: "sha256:abc" } },
      pattern: /descriptor config: invalid digest/,
    },
    {
      name: "missing layers",
      body: { ...image, layers: undefined },
      pattern: /layers must be an array, but is missing/,
    },
    {
      name: "layers as an object",
      body: { ...image, layers: { 0: layer1 } },
      pattern: /layers must be an array/,
    },
    { name: "layers as a string", body: { ...image, layers: "layer" }, pattern: /layers must be an array/ },
    { name: "layers as null", body: { ...image, layers: null }, pattern: /layers must be an array/ },
    {
      name: "a layer with a negative size",
      body: { ...image, layers: [layer1, { ...layer2, size: -1 }] },
      pattern: /layers\[1\]: size .* got -1/,
    },
    {
      name: "a layer with a fractional size",
      body: { ...image, layers: [{ ...layer1, size: 0.5 }] },
      pattern: /layers\[0\]: size/,
    },
    {
      name: "a layer with a huge size",
      body: { ...image, layers: [{ ...layer1, size: 2 ** 64 }] },
      pattern: /layers\[0\]: size/,
    },
    {
      name: "a layer with a string size",
      body: { ...image, layers: [{ ...layer1, size: "9" }] },
      pattern: /got "9"/,
    },
    {
      name: "a layer size written as 9.0",
      body: JSON.stringify(image).replace(`"size":${layer1.size}`, `"size":${layer1.size}.0`),
      pattern: /layers\[0\]\.size must be written as an integer/,
    },
    {
      name: "a config size written with an exponent",
      body: JSON.stringify({ ...image, config: { ...config, size: 1000 } }).replace(
        '"size":1000',
        '"size":1e3',
      ),
      pattern: /config\.size must be written as an integer/,
    },
    {
      name: "a layer with an invalid digest",
      body: { ...image, layers: [{ ...layer1, digest: `sha256:${"A".repeat(64)}` }] },
      pattern: /layers\[0\]: invalid digest/,
    },
    {
      name: "a layer with a bad mediaType",
      body: { ...image, layers: [{ ...layer1, mediaType: "tar" }] },
      pattern: /layers\[0\]: mediaType "tar"/,
    },
    {
      name: "a layer that is a string",
      body: { ...image, layers: [layer1.digest] },
      pattern: /layers\[0\]: expected an object/,
    },
    {
      name: "layer annotations with a number",
      body: { ...image, layers: [{ ...layer1, annotations: { a: 1 } }] },
      pattern: /annotations: value of "a"/,
    },
    {
      name: "a manifest with a manifests field",
      body: { ...image, manifests: [] },
      pattern: /image manifest has no manifests field/,
    },
    // Common fields.
    {
      name: "annotations with a non-string value",
      body: { ...image, annotations: { a: true } },
      pattern: /manifest annotations: value of "a" is not a string/,
    },
    {
      name: "annotations as an array",
      body: { ...image, annotations: ["a"] },
      pattern: /manifest annotations/,
    },
    {
      name: "a malformed artifactType",
      body: { ...image, artifactType: "sbom" },
      pattern: /artifactType is malformed/,
    },
    {
      name: "a subject that is a digest string",
      body: { ...image, subject: child.digest },
      pattern: /descriptor subject: expected an object/,
    },
    {
      name: "a subject without size",
      body: { ...image, subject: { ...child, size: undefined } },
      pattern: /descriptor subject: size/,
    },
    {
      name: "a subject size written as 1.0e2",
      body: JSON.stringify({ ...image, subject: { ...child, size: 100 } }).replace(
        '"size":100',
        '"size":1.0e2',
      ),
      pattern: /subject\.size must be written as an integer/,
    },
    // Index shape.
    {
      name: "an index with config",
      body: { ...index, config },
      pattern: /index has no config or layers field/,
    },
    {
      name: "an index with layers",
      body: { ...index, layers: [] },
      pattern: /index has no config or layers field/,
    },
    {
      name: "a Docker list with config",
      body: { ...dockerList, config: dockerConfig },
      pattern: /index has no config/,
    },
    {
      name: "an index without manifests",
      body: { ...index, manifests: undefined },
      pattern: /manifests must be an array, but is missing/,
    },
    {
      name: "an index with manifests as an object",
      body: { ...index, manifests: {} },
      pattern: /manifests must be an array/,
    },
    {
      name: "an index entry with a bad platform",
      body: { ...index, manifests: [{ ...child, platform: { os: "linux" } }] },
      pattern: /manifests\[0\] platform/,
    },
    {
      name: "an index entry with a bad digest",
      body: { ...index, manifests: [{ ...child, digest: "sha256:" }] },
      pattern: /manifests\[0\]: invalid digest/,
    },
    {
      name: "an index entry size written as 5.0",
      body: JSON.stringify(index).replace(`"size":${child.size}`, `"size":${child.size}.0`),
      pattern: /manifests\[0\]\.size must be written as an integer/,
    },
    // Hostile sizes and values.
    {
      name: "a huge mediaType",
      body: { ...image, mediaType: `a/${"b".repeat(1_000_000)}` },
      pattern: /\.\.\./,
    },
    { name: "a mediaType with NUL", body: { ...image, mediaType: "a/b\0" }, pattern: /\\u0000/ },
  ];
  for (const { name, body, contentType, pattern } of cases) {
    it(name, () => {
      throwsManifest(
        () => parseManifest(body instanceof Uint8Array ? body : enc(body), contentType),
        pattern,
      );
    });
  }

  const notUtf8: { name: string; bytes: number[] }[] = [
    { name: "a lone continuation byte", bytes: [0x7b, 0x80, 0x7d] },
    { name: "an overlong slash", bytes: [0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d] },
    { name: "0xff", bytes: [0xff, 0xfe, 0x7b, 0x7d] },
    { name: "a truncated sequence", bytes: [0x7b, 0x22, 0xe2, 0x82, 0x22, 0x3a, 0x31, 0x7d] },
    { name: "an encoded surrogate", bytes: [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d] },
  ];
  for (const { name, bytes } of notUtf8) {
    it(`bytes that are not UTF-8: ${name}`, () => {
      throwsManifest(() => parseManifest(Uint8Array.from(bytes)), /not UTF-8/);
    });
  }
});

describe("manifest helpers", () => {
  it("list the blobs an image needs, skipping foreign layers", () => {
    const got = parseManifest(enc({ ...image, layers: [layer1, foreign, layer2] }));
    assert.ok(got.kind === "manifest");
    assert.deepEqual(
      requiredBlobs(got).map((b) => b.digest),
      [config.digest, layer1.digest, layer2.digest],
    );
  });

  it("list every referenced digest for garbage collection", () => {
    const manifest = parseManifest(enc({ ...image, layers: [layer1, foreign] }));
    assert.deepEqual(referencedDigests(manifest), [config.digest, layer1.digest, foreign.digest]);
    assert.deepEqual(referencedDigests(parseManifest(enc(index))), [child.digest]);
  });

  it("report the artifact type: artifactType, else config mediaType, else none", () => {
    const artifact = parseManifest(enc({ ...image, artifactType: "application/vnd.example" }));
    assert.equal(effectiveArtifactType(artifact), "application/vnd.example");
    assert.equal(effectiveArtifactType(parseManifest(enc(image))), MediaType.ImageConfig);
    assert.equal(effectiveArtifactType(parseManifest(enc(index))), undefined);
    const typedIndex = parseManifest(enc({ ...index, artifactType: "application/vnd.example.set" }));
    assert.equal(effectiveArtifactType(typedIndex), "application/vnd.example.set");
  });
});
