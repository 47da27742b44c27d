// Descriptors from untrusted JSON: every field's type, range and format, and embedded data.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDescriptor, parsePlatform, parseStringMap } from "./descriptor.ts";
import { digestOf } from "./digest.ts";
import { MediaType } from "./media-types.ts";
import { throwsOci } from "../../test/helpers/oci-assert.ts";

const CONTENT = new TextEncoder().encode('{"a":1}');
const BASE = {
  mediaType: MediaType.ImageLayerGzip,
  digest: digestOf(CONTENT),
  size: CONTENT.length,
} as const;

describe("parseDescriptor accepts", () => {
  const cases: { name: string; value: Record<string, unknown> }[] = [
    { name: "the required fields", value: { ...BASE } },
    { name: "size 0", value: { ...BASE, size: 0 } },
    { name: "the largest safe size", value: { ...BASE, size: Number.MAX_SAFE_INTEGER } },
    { name: "a sha512 digest", value: { ...BASE, digest: digestOf(CONTENT, "sha512") } },
    { name: "urls", value: { ...BASE, urls: ["https://example.com/layer", "http://[::1]:8080/x?y#z"] } },
    { name: "empty urls", value: { ...BASE, urls: [] } },
    { name: "annotations", value: { ...BASE, annotations: { "org.example.key": "value", "": "" } } },
    { name: "empty annotations", value: { ...BASE, annotations: {} } },
    { name: "an artifactType", value: { ...BASE, artifactType: "application/vnd.example.sbom+json" } },
    {
      name: "a full platform",
      value: {
        ...BASE,
        platform: {
          architecture: "arm64",
          os: "linux",
          variant: "v8",
          "os.version": "6.1",
          "os.features": ["x"],
          features: [],
        },
      },
    },
    { name: "embedded data", value: { ...BASE, data: Buffer.from(CONTENT).toString("base64") } },
    {
      name: "embedded data with padding",
      value: { mediaType: "text/plain", digest: digestOf("ab"), size: 2, data: "YWI=" },
    },
    {
      name: "empty embedded data",
      value: { mediaType: "text/plain", digest: digestOf(""), size: 0, data: "" },
    },
    { name: "unknown fields", value: { ...BASE, "com.example.extra": { nested: [1, 2.5] } } },
  ];
  for (const { name, value } of cases) {
    it(name, () => {
      const got = parseDescriptor(value, "layers[0]");
      assert.equal(got.digest, value.digest);
      assert.equal(got.size, value.size);
      assert.equal(got.mediaType, value.mediaType);
    });
  }
});

describe("parseDescriptor rejects", () => {
  const cases: { name: string; value: unknown; pattern: RegExp }[] = [
    { name: "null", value: null, pattern: /expected an object/ },
    { name: "an array", value: [BASE], pattern: /expected an object/ },
    { name: "a string", value: "sha256:abc", pattern: /expected an object/ },
    { name: "a number", value: 1, pattern: /expected an object/ },
    {
      name: "a missing mediaType",
      value: { ...BASE, mediaType: undefined },
      pattern: /mediaType is missing/,
    },
    { name: "a numeric mediaType", value: { ...BASE, mediaType: 1 }, pattern: /mediaType is not a string/ },
    {
      name: "a mediaType without subtype",
      value: { ...BASE, mediaType: "application" },
      pattern: /mediaType "application"/,
    },
    { name: "a mediaType with parameters", value: { ...BASE, mediaType: "a/b; x=y" }, pattern: /mediaType/ },
    { name: "a mediaType with spaces", value: { ...BASE, mediaType: "a /b" }, pattern: /mediaType/ },
    { name: "an empty mediaType", value: { ...BASE, mediaType: "" }, pattern: /mediaType/ },
    {
      name: "a huge mediaType",
      value: { ...BASE, mediaType: `a/${"b".repeat(100_000)}` },
      pattern: /\.\.\./,
    },
    { name: "a missing digest", value: { ...BASE, digest: undefined }, pattern: /digest is missing/ },
    {
      name: "a numeric digest",
      value: { ...BASE, digest: 256 },
      pattern: /digest is missing or not a string/,
    },
    { name: "an empty digest", value: { ...BASE, digest: "" }, pattern: /invalid digest ""/ },
    {
      name: "an unknown algorithm",
      value: { ...BASE, digest: `md5:${"a".repeat(32)}` },
      pattern: /unsupported/,
    },
    {
      name: "uppercase hex",
      value: { ...BASE, digest: BASE.digest.toUpperCase() },
      pattern: /invalid digest/,
    },
    { name: "a short digest", value: { ...BASE, digest: BASE.digest.slice(0, -1) }, pattern: /needs 64/ },
    {
      name: "a missing size",
      value: { ...BASE, size: undefined },
      pattern: /size must be an integer .* got none/,
    },
    {
      name: "a negative size",
      value: { ...BASE, size: -1 },
      pattern: /size must be an integer from 0 .* got -1/,
    },
    { name: "a fractional size", value: { ...BASE, size: 1.5 }, pattern: /got 1\.5/ },
    { name: "a string size", value: { ...BASE, size: "7" }, pattern: /got "7"/ },
    { name: "a huge size", value: { ...BASE, size: 1e300 }, pattern: /got 1e\+300/ },
    { name: "a size past 2^53", value: { ...BASE, size: 2 ** 53 }, pattern: /size must be/ },
    { name: "a null size", value: { ...BASE, size: null }, pattern: /got null/ },
    { name: "a boolean size", value: { ...BASE, size: true }, pattern: /got true/ },
    { name: "an infinite size", value: { ...BASE, size: Infinity }, pattern: /size must be/ },
    { name: "a NaN size", value: { ...BASE, size: NaN }, pattern: /size must be/ },
    {
      name: "urls as a string",
      value: { ...BASE, urls: "https://x" },
      pattern: /urls: expected an array of strings/,
    },
    { name: "urls with a number", value: { ...BASE, urls: [1] }, pattern: /urls/ },
    {
      name: "a relative url",
      value: { ...BASE, urls: ["layer.tar"] },
      pattern: /"layer.tar" is not an absolute URL/,
    },
    { name: "an empty url", value: { ...BASE, urls: [""] }, pattern: /not an absolute URL/ },
    { name: "annotations as an array", value: { ...BASE, annotations: [] }, pattern: /annotations/ },
    { name: "annotations as null", value: { ...BASE, annotations: null }, pattern: /annotations/ },
    {
      name: "a numeric annotation",
      value: { ...BASE, annotations: { a: 1 } },
      pattern: /value of "a" is not a string/,
    },
    { name: "a null annotation", value: { ...BASE, annotations: { a: null } }, pattern: /value of "a"/ },
    { name: "an object annotation", value: { ...BASE, annotations: { a: {} } }, pattern: /value of "a"/ },
    { name: "a malformed artifactType", value: { ...BASE, artifactType: "sbom" }, pattern: /artifactType/ },
    { name: "a numeric artifactType", value: { ...BASE, artifactType: 1 }, pattern: /artifactType/ },
    {
      name: "a string platform",
      value: { ...BASE, platform: "linux/amd64" },
      pattern: /platform: expected an object/,
    },
    {
      name: "a platform without os",
      value: { ...BASE, platform: { architecture: "amd64" } },
      pattern: /os must be/,
    },
    {
      name: "a numeric architecture",
      value: { ...BASE, platform: { architecture: 64, os: "linux" } },
      pattern: /architecture and os/,
    },
    {
      name: "a numeric os.version",
      value: { ...BASE, platform: { architecture: "amd64", os: "windows", "os.version": 10 } },
      pattern: /os.version/,
    },
    {
      name: "os.features as a string",
      value: { ...BASE, platform: { architecture: "amd64", os: "windows", "os.features": "win32k" } },
      pattern: /os.features/,
    },
    {
      name: "a numeric variant",
      value: { ...BASE, platform: { architecture: "arm", os: "linux", variant: 7 } },
      pattern: /variant/,
    },
    {
      name: "features with a number",
      value: { ...BASE, platform: { architecture: "arm", os: "linux", features: [1] } },
      pattern: /features/,
    },
    { name: "numeric data", value: { ...BASE, data: 1 }, pattern: /data must be padded base64/ },
    { name: "data that is not base64", value: { ...BASE, data: "!!!!" }, pattern: /base64/ },
    {
      name: "unpadded data",
      value: { mediaType: "a/b", digest: digestOf("a"), size: 1, data: "YQ" },
      pattern: /base64/,
    },
    { name: "url-safe base64 data", value: { ...BASE, data: "-_-_" }, pattern: /base64/ },
    { name: "data with a newline", value: { ...BASE, data: "YWJj\nYWJj" }, pattern: /base64/ },
    {
      name: "data longer than size",
      value: { ...BASE, size: 1, data: Buffer.from(CONTENT).toString("base64") },
      pattern: /decodes to 7 bytes but size is 1/,
    },
    {
      name: "data that does not match the digest",
      value: { ...BASE, data: Buffer.from('{"a":2}').toString("base64") },
      pattern: /data does not match digest/,
    },
  ];
  for (const { name, value, pattern } of cases) {
    it(name, () => {
      throwsOci(() => parseDescriptor(value, "layers[3]"), "MANIFEST_INVALID", pattern);
      throwsOci(
        () => parseDescriptor(value, "layers[3]"),
        "MANIFEST_INVALID",
        /^Invalid descriptor layers\[3\]/,
      );
    });
  }

  it("uses the code it is given", () => {
    throwsOci(
      () => parseDescriptor({ ...BASE, size: -1 }, "config", "CONFIG_INVALID"),
      "CONFIG_INVALID",
      /config/,
    );
  });
});

describe("parseStringMap and parsePlatform", () => {
  it("return what they validated", () => {
    assert.deepEqual(parseStringMap({ a: "b" }, "labels"), { a: "b" });
    assert.deepEqual(parsePlatform({ architecture: "amd64", os: "linux" }, "platform"), {
      architecture: "amd64",
      os: "linux",
    });
  });

  it("reject a key named __proto__ with a non-string value", () => {
    const value = JSON.parse('{"__proto__": 1}') as unknown;
    throwsOci(() => parseStringMap(value, "annotations"), "MANIFEST_INVALID", /"__proto__"/);
  });
});
