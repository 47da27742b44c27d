// Digests: the one constructor accepts only sha256/sha512 with lowercase hex of the exact length.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { digestAlgorithm, digestHex, digestOf, isDigest, parseDigest } from "./digest.ts";
import { throwsOci } from "../../test/helpers/oci-assert.ts";

const HEX64 = "0123456789abcdef".repeat(4);
const HEX128 = HEX64.repeat(2);
const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const EMPTY_SHA512 =
  "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

describe("parseDigest", () => {
  const valid = [`sha256:${HEX64}`, `sha512:${HEX128}`, EMPTY_SHA256, EMPTY_SHA512];
  for (const value of valid) {
    it(`accepts ${value.slice(0, 20)}…`, () => {
      assert.equal(parseDigest(value), value);
      assert.equal(isDigest(value), true);
    });
  }

  const invalid: { name: string; value: string; pattern?: RegExp }[] = [
    { name: "empty", value: "", pattern: /expected algorithm:hex/ },
    { name: "no colon", value: `sha256${HEX64}`, pattern: /expected algorithm:hex/ },
    { name: "leading colon", value: `:${HEX64}`, pattern: /expected algorithm:hex/ },
    { name: "algorithm only", value: "sha256:", pattern: /64 lowercase hex/ },
    { name: "md5", value: `md5:${HEX64.slice(0, 32)}`, pattern: /unsupported algorithm "md5"/ },
    { name: "sha1", value: `sha1:${HEX64.slice(0, 40)}`, pattern: /unsupported algorithm "sha1"/ },
    {
      name: "blake3 (registered but unsupported)",
      value: `blake3:${HEX64}`,
      pattern: /unsupported algorithm/,
    },
    { name: "sha384", value: `sha384:${HEX128.slice(0, 96)}`, pattern: /unsupported algorithm/ },
    { name: "extended algorithm", value: "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564" },
    { name: "uppercase algorithm", value: `SHA256:${HEX64}`, pattern: /unsupported algorithm "SHA256"/ },
    { name: "uppercase hex", value: `sha256:${HEX64.toUpperCase()}`, pattern: /lowercase hex/ },
    { name: "one uppercase hex digit", value: `sha256:${HEX64.slice(0, 63)}A` },
    { name: "63 hex characters", value: `sha256:${HEX64.slice(1)}`, pattern: /needs 64/ },
    { name: "65 hex characters", value: `sha256:${HEX64}0`, pattern: /needs 64/ },
    { name: "sha512 with 64 hex", value: `sha512:${HEX64}`, pattern: /sha512 needs 128/ },
    { name: "sha256 with 128 hex", value: `sha256:${HEX128}` },
    { name: "non-hex letter", value: `sha256:${HEX64.slice(0, 63)}g` },
    { name: "NUL inside", value: `sha256:${HEX64.slice(0, 32)}\0${HEX64.slice(33)}` },
    { name: "NUL appended", value: `sha256:${HEX64}\0` },
    { name: "NUL in algorithm", value: `sha\x00256:${HEX64}` },
    { name: "leading space", value: ` sha256:${HEX64}` },
    { name: "trailing space", value: `sha256:${HEX64} ` },
    { name: "trailing newline", value: `sha256:${HEX64}\n` },
    { name: "space after colon", value: `sha256: ${HEX64.slice(1)}` },
    { name: "tab inside", value: `sha256:${HEX64.slice(0, 63)}\t` },
    { name: "double colon", value: `sha256::${HEX64}` },
    { name: "two digests", value: `sha256:${HEX64}sha256:${HEX64}` },
    { name: "fullwidth digits", value: `sha256:${"０".repeat(64)}` },
    { name: "huge hex", value: `sha256:${"a".repeat(1_000_000)}`, pattern: /\.\.\./ },
    { name: "huge garbage", value: "x".repeat(1_000_000), pattern: /\.\.\./ },
    { name: "huge algorithm", value: `${"s".repeat(100_000)}:${HEX64}` },
  ];
  for (const { name, value, pattern } of invalid) {
    it(`rejects ${name}`, () => {
      throwsOci(() => parseDigest(value), "DIGEST_INVALID", pattern);
      assert.equal(isDigest(value), false);
    });
  }

  for (const value of [undefined, null, 42, {}, [`sha256:${HEX64}`]]) {
    it(`rejects the non-string ${JSON.stringify(value) ?? "undefined"}`, () => {
      throwsOci(() => parseDigest(value as unknown as string), "DIGEST_INVALID", /not a string/);
      assert.equal(isDigest(value as unknown as string), false);
    });
  }

  it("escapes control characters when quoting the value", () => {
    throwsOci(() => parseDigest(`sha256:\n\0${HEX64}`), "DIGEST_INVALID", /\\n\\u0000/);
  });
});

describe("digest parts", () => {
  it("splits algorithm and hex", () => {
    const sha256 = parseDigest(`sha256:${HEX64}`);
    const sha512 = parseDigest(`sha512:${HEX128}`);
    assert.equal(digestAlgorithm(sha256), "sha256");
    assert.equal(digestHex(sha256), HEX64);
    assert.equal(digestAlgorithm(sha512), "sha512");
    assert.equal(digestHex(sha512), HEX128);
  });
});

describe("digestOf", () => {
  const cases: { input: Uint8Array | string; algorithm?: "sha256" | "sha512"; want: string }[] = [
    { input: "", want: EMPTY_SHA256 },
    { input: new Uint8Array(), want: EMPTY_SHA256 },
    { input: "", algorithm: "sha512", want: EMPTY_SHA512 },
    { input: "abc", want: "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    {
      input: new TextEncoder().encode("abc"),
      want: "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    },
    {
      input: "abc",
      algorithm: "sha512",
      want: "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    },
  ];
  for (const { input, algorithm, want } of cases) {
    it(`hashes ${JSON.stringify(typeof input === "string" ? input : [...input])} with ${algorithm ?? "sha256"}`, () => {
      const got = digestOf(input, algorithm);
      assert.equal(got, want);
      assert.equal(parseDigest(got), got);
    });
  }
});
