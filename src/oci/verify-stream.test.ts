// The verifying stream: passes bytes through unchanged, fails on a wrong digest or size, stops
// early at the size cap, resumes from a saved hash, and hashes with sha512 when asked.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, it } from "node:test";
import { digestOf, type Digest } from "./digest.ts";
import { OciFormatError, type OciFormatCode } from "./errors.ts";
import { VerifyStream, type VerifyOptions } from "./verify-stream.ts";

const CONTENT = Buffer.from("The quick brown fox jumps over the lazy dog\n".repeat(100));
const chunksOf = (bytes: Buffer, size: number): Buffer[] => {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
};

/** Runs chunks through a VerifyStream; resolves with what came out and the stream. */
async function run(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, options: VerifyOptions) {
  const verify = new VerifyStream(options);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks), verify, sink);
  return { verify, output: Buffer.concat(out) };
}

async function rejectsOci(
  promise: Promise<unknown>,
  code: OciFormatCode,
  pattern: RegExp,
): Promise<OciFormatError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    assert.ok(error instanceof OciFormatError, `expected an OciFormatError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\.$/);
    return true;
  });
  return caught as OciFormatError;
}

describe("VerifyStream passes", () => {
  const sha256 = digestOf(CONTENT);
  const sha512 = digestOf(CONTENT, "sha512");
  const cases: { name: string; chunkSize: number; options: VerifyOptions; digest: Digest }[] = [
    {
      name: "the right digest and size",
      chunkSize: 100,
      options: { digest: sha256, size: CONTENT.length },
      digest: sha256,
    },
    { name: "the right digest alone", chunkSize: 7, options: { digest: sha256 }, digest: sha256 },
    { name: "the right size alone", chunkSize: 1000, options: { size: CONTENT.length }, digest: sha256 },
    { name: "nothing expected", chunkSize: 1, options: {}, digest: sha256 },
    {
      name: "a sha512 digest",
      chunkSize: 64,
      options: { digest: sha512, size: CONTENT.length },
      digest: sha512,
    },
    { name: "the sha512 algorithm", chunkSize: 64, options: { algorithm: "sha512" }, digest: sha512 },
    {
      name: "a limit equal to the size",
      chunkSize: 9,
      options: { digest: sha256, maxSize: CONTENT.length },
      digest: sha256,
    },
    {
      name: "a limit above the expected size",
      chunkSize: 9,
      options: { size: CONTENT.length, maxSize: CONTENT.length * 2 },
      digest: sha256,
    },
  ];
  for (const { name, chunkSize, options, digest } of cases) {
    it(name, async () => {
      const { verify, output } = await run(chunksOf(CONTENT, chunkSize), options);
      assert.deepEqual(output, CONTENT);
      assert.deepEqual(verify.verified, { digest, size: CONTENT.length });
      assert.equal(verify.size, CONTENT.length);
    });
  }

  it("empty content", async () => {
    const { verify } = await run([], { digest: digestOf(""), size: 0, maxSize: 0 });
    assert.deepEqual(verify.verified, { digest: digestOf(""), size: 0 });
  });
});

describe("VerifyStream fails", () => {
  it("on a wrong digest, naming both digests", async () => {
    const wrong = digestOf("other");
    const error = await rejectsOci(
      run(chunksOf(CONTENT, 100), { digest: wrong, size: CONTENT.length }),
      "DIGEST_INVALID",
      /^Digest mismatch: expected sha256:\w+, got sha256:\w+$/,
    );
    assert.deepEqual(error.detail, { expected: wrong, actual: digestOf(CONTENT) });
  });

  it("on a wrong sha512 digest", async () => {
    await rejectsOci(
      run([CONTENT], { digest: digestOf("other", "sha512") }),
      "DIGEST_INVALID",
      /expected sha512:/,
    );
  });

  it("when content is shorter than the expected size", async () => {
    const error = await rejectsOci(
      run(chunksOf(CONTENT, 100), { digest: digestOf(CONTENT), size: CONTENT.length + 1 }),
      "SIZE_INVALID",
      /^Content size mismatch: expected 4401 bytes, got 4400$/,
    );
    assert.deepEqual(error.detail, { expected: CONTENT.length + 1, actual: CONTENT.length });
  });

  it("when content is longer than the expected size", async () => {
    await rejectsOci(
      run(chunksOf(CONTENT, 100), { size: CONTENT.length - 1 }),
      "SIZE_INVALID",
      /^Content is larger than the expected 4399 bytes$/,
    );
  });

  it("when one byte is flipped", async () => {
    const tampered = Buffer.from(CONTENT);
    tampered[1000] = (tampered[1000] ?? 0) ^ 1;
    await rejectsOci(
      run([tampered], { digest: digestOf(CONTENT), size: CONTENT.length }),
      "DIGEST_INVALID",
      /mismatch/,
    );
  });
});

describe("VerifyStream stops early", () => {
  const MiB = 1024 * 1024;
  const chunk = Buffer.alloc(MiB, 1);

  /** A 1 GiB source that counts how much of it was pulled. */
  function hugeSource() {
    const state = { pulled: 0 };
    async function* generate() {
      for (let i = 0; i < 1024; i++) {
        state.pulled++;
        yield chunk;
      }
    }
    return { state, source: generate() };
  }

  it("at maxSize, before consuming the source", async () => {
    const { state, source } = hugeSource();
    const error = await rejectsOci(
      run(source, { maxSize: 3 * MiB }),
      "SIZE_INVALID",
      /^Content is larger than the limit of 3145728 bytes$/,
    );
    assert.deepEqual(error.detail, { limit: 3 * MiB, tooLarge: true });
    assert.ok(state.pulled < 64, `pulled ${state.pulled} MiB of 1024`);
  });

  it("at the expected size when it is below maxSize", async () => {
    const { state, source } = hugeSource();
    const error = await rejectsOci(
      run(source, { size: 2 * MiB, maxSize: 100 * MiB }),
      "SIZE_INVALID",
      /larger than the expected 2097152 bytes/,
    );
    assert.deepEqual(error.detail, { limit: 2 * MiB, tooLarge: false });
    assert.ok(state.pulled < 64, `pulled ${state.pulled} MiB of 1024`);
  });

  it("at maxSize when it is below the expected size", async () => {
    const { state, source } = hugeSource();
    await rejectsOci(run(source, { size: 1024 * MiB, maxSize: MiB }), "SIZE_INVALID", /limit of 1048576/);
    assert.ok(state.pulled < 64, `pulled ${state.pulled} MiB of 1024`);
  });

  it("counting bytes hashed before a resume", async () => {
    const hash = createHash("sha256").update(chunk);
    await rejectsOci(run([chunk], { hash, offset: MiB, maxSize: MiB + 10 }), "SIZE_INVALID", /limit/);
  });
});

describe("VerifyStream resumes", () => {
  const cut = 1234;
  const first = CONTENT.subarray(0, cut);
  const rest = CONTENT.subarray(cut);

  for (const algorithm of ["sha256", "sha512"] as const) {
    it(`from a saved ${algorithm} hash and offset`, async () => {
      const part = await run(chunksOf(first, 100), { algorithm });
      assert.equal(part.verify.size, cut);
      const saved = part.verify.copyHash();
      const digest = digestOf(CONTENT, algorithm);
      const { verify, output } = await run(chunksOf(rest, 333), {
        digest,
        size: CONTENT.length,
        hash: saved,
        offset: cut,
      });
      assert.deepEqual(output, rest);
      assert.deepEqual(verify.verified, { digest, size: CONTENT.length });
    });
  }

  it("and still catches a wrong total size", async () => {
    const hash = createHash("sha256").update(first);
    await rejectsOci(
      run([rest], { hash, offset: cut, size: rest.length, digest: digestOf(CONTENT) }),
      "SIZE_INVALID",
      /larger than the expected/,
    );
  });

  it("and fails when the saved hash does not cover the offset", async () => {
    const hash = createHash("sha256").update(first.subarray(1));
    await rejectsOci(
      run([rest], { hash, offset: cut, digest: digestOf(CONTENT) }),
      "DIGEST_INVALID",
      /mismatch/,
    );
  });
});

describe("VerifyStream options", () => {
  const bad: { name: string; options: VerifyOptions; error: RegExp | typeof TypeError }[] = [
    { name: "a negative size", options: { size: -1 }, error: /Invalid expected size -1/ },
    { name: "a fractional size", options: { size: 1.5 }, error: /Invalid expected size 1.5/ },
    { name: "a NaN maxSize", options: { maxSize: NaN }, error: /Invalid size limit NaN/ },
    { name: "an infinite maxSize", options: { maxSize: Infinity }, error: /Invalid size limit/ },
    { name: "a negative offset", options: { offset: -5 }, error: /Invalid offset -5/ },
    { name: "an offset without a hash", options: { offset: 10 }, error: TypeError },
    {
      name: "an algorithm that disagrees with the digest",
      options: { digest: digestOf("x"), algorithm: "sha512" },
      error: TypeError,
    },
  ];
  for (const { name, options, error } of bad) {
    it(`refuse ${name}`, () => {
      assert.throws(() => new VerifyStream(options), error);
    });
  }

  it("has no verified result before the end", () => {
    const verify = new VerifyStream();
    assert.throws(() => verify.verified, /has not finished/);
    verify.destroy();
  });
});
