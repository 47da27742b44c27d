// Media types: every predicate over every known type, and the RFC 6838 shape check.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MANIFEST_MEDIA_TYPES,
  MediaType,
  isConfig,
  isDiskArtifact,
  isDockerManifest,
  isDockerSchema1,
  isImageManifest,
  isIndex,
  isLayer,
  isManifestMediaType,
  isWellFormedMediaType,
} from "./media-types.ts";

const PREDICATES = {
  isImageManifest,
  isIndex,
  isManifestMediaType,
  isDockerManifest,
  isDockerSchema1,
  isLayer,
  isConfig,
  isDiskArtifact,
} as const;
type Predicate = keyof typeof PREDICATES;

const EXPECTED: Record<keyof typeof MediaType, readonly Predicate[]> = {
  ImageManifest: ["isImageManifest", "isManifestMediaType"],
  ImageIndex: ["isIndex", "isManifestMediaType"],
  ImageConfig: ["isConfig"],
  ImageLayer: ["isLayer"],
  ImageLayerGzip: ["isLayer"],
  ImageLayerZstd: ["isLayer"],
  ImageLayerNondistributable: ["isLayer"],
  ImageLayerNondistributableGzip: ["isLayer"],
  ImageLayerNondistributableZstd: ["isLayer"],
  Empty: [],
  DockerManifest: ["isImageManifest", "isManifestMediaType", "isDockerManifest"],
  DockerManifestList: ["isIndex", "isManifestMediaType", "isDockerManifest"],
  DockerConfig: ["isConfig"],
  DockerLayer: ["isLayer"],
  DockerForeignLayer: ["isLayer"],
  DockerManifestSchema1: ["isDockerSchema1"],
  DockerManifestSchema1Signed: ["isDockerSchema1"],
  DiskArtifact: ["isDiskArtifact"],
  DiskQcow2: [],
  DiskChunked: ["isDiskArtifact"],
  DiskChunkIndexManifest: [],
  DiskChunkIndex: [],
  DiskChunkPart: [],
  DiskChunk: [],
  DiskChunkGzip: [],
  DiskChunkDelta: [],
  SigstoreBundle: [],
  CosignSimpleSigning: [],
};

describe("media type predicates", () => {
  for (const [name, value] of Object.entries(MediaType)) {
    it(`classify ${name}`, () => {
      const want = EXPECTED[name as keyof typeof MediaType];
      for (const [predicate, fn] of Object.entries(PREDICATES)) {
        assert.equal(fn(value), want.includes(predicate as Predicate), `${predicate}(${value})`);
      }
    });
  }

  const near = [
    undefined,
    "",
    MediaType.ImageManifest.toUpperCase(),
    `${MediaType.ImageManifest}; charset=utf-8`,
    ` ${MediaType.ImageManifest}`,
    `${MediaType.ImageManifest}\0`,
    "application/vnd.oci.image.manifest.v2+json",
    "application/json",
    "application/octet-stream",
  ];
  for (const value of near) {
    it(`match nothing for ${JSON.stringify(value) ?? "undefined"}`, () => {
      for (const [predicate, fn] of Object.entries(PREDICATES)) assert.equal(fn(value), false, predicate);
    });
  }

  it("list exactly the four pushable manifest types", () => {
    assert.deepEqual(
      [...MANIFEST_MEDIA_TYPES].sort(),
      [
        MediaType.ImageManifest,
        MediaType.ImageIndex,
        MediaType.DockerManifest,
        MediaType.DockerManifestList,
      ].sort(),
    );
    for (const type of MANIFEST_MEDIA_TYPES) assert.equal(isManifestMediaType(type), true);
  });
});

describe("isWellFormedMediaType", () => {
  const good = [
    ...Object.values(MediaType),
    "a/b",
    "application/vnd.example+type",
    "application/vnd.cncf.helm.config.v1+json",
    "text/plain",
    "x-a!#$&^_.+-/y-b!#$&^_.+-",
    `${"a".repeat(127)}/${"b".repeat(127)}`,
  ];
  for (const value of good) {
    it(`accepts ${value.length > 60 ? `${value.slice(0, 20)}…` : value}`, () => {
      assert.equal(isWellFormedMediaType(value), true);
    });
  }

  const bad: unknown[] = [
    "",
    "a",
    "/b",
    "a/",
    "a/b/c",
    "a b/c",
    " a/b",
    "a/b ",
    "a/b\n",
    "a/b; charset=utf-8",
    "a/b\0",
    "-a/b",
    "a/.b",
    "a/b*",
    "ä/b",
    "a/b%2f",
    `${"a".repeat(128)}/b`,
    `a/${"b".repeat(128)}`,
    "x".repeat(1_000_000),
    undefined,
    null,
    42,
    {},
    ["a/b"],
  ];
  for (const value of bad) {
    const shown = typeof value === "string" && value.length > 60 ? `${value.slice(0, 20)}…` : value;
    it(`rejects ${JSON.stringify(shown) ?? "undefined"}`, () => {
      assert.equal(isWellFormedMediaType(value), false);
    });
  }
});
