// A verifying stream: hashes bytes as they pass, caps the size as they arrive, and at the end
// checks the expected size and digest. A mismatch fails the stream before it can be committed.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { type Digest, type DigestAlgorithm, digestAlgorithm } from "./digest.ts";
import { OciFormatError } from "./errors.ts";

export interface VerifyOptions {
  readonly digest?: Digest;
  readonly size?: number;
  /** Fails as soon as more than this many bytes arrive. */
  readonly maxSize?: number;
  /** Used when no digest is expected; defaults to sha256. */
  readonly algorithm?: DigestAlgorithm;
  /** Continue hashing from an earlier state (resumed uploads). */
  readonly hash?: Hash;
  /** Bytes already hashed into `hash`. */
  readonly offset?: number;
}

export class VerifyStream extends Transform {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  private readonly options: VerifyOptions;
  private bytes: number;
  private result: { digest: Digest; size: number } | undefined;

  constructor(options: VerifyOptions = {}) {
    super();
    this.options = options;
    this.algorithm = options.digest !== undefined ? digestAlgorithm(options.digest) : (options.algorithm ?? "sha256");
    this.hash = options.hash ?? createHash(this.algorithm);
    this.bytes = options.offset ?? 0;
  }

  /** Bytes seen so far (including any starting offset). */
  get size(): number {
    return this.bytes;
  }

  /** The verified digest and size, available once the stream has finished. */
  get verified(): { digest: Digest; size: number } {
    if (this.result === undefined) throw new Error("VerifyStream has not finished");
    return this.result;
  }

  /** A copy of the running hash (to resume later). */
  copyHash(): Hash {
    return this.hash.copy();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const cap = this.options.maxSize ?? this.options.size;
    if (cap !== undefined && this.bytes > cap) {
      callback(
        new OciFormatError(
          "SIZE_INVALID",
          `Content is larger than ${this.options.maxSize !== undefined ? "the limit of " : "the expected "}${cap} bytes`,
          { detail: { limit: cap, tooLarge: this.options.maxSize !== undefined } },
        ),
      );
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { size, digest } = this.options;
    if (size !== undefined && this.bytes !== size) {
      callback(
        new OciFormatError("SIZE_INVALID", `Content size mismatch: expected ${size} bytes, got ${this.bytes}`, {
          detail: { expected: size, actual: this.bytes },
        }),
      );
      return;
    }
    const actual = `${this.algorithm}:${this.hash.digest("hex")}` as Digest;
    if (digest !== undefined && actual !== digest) {
      callback(
        new OciFormatError("DIGEST_INVALID", `Digest mismatch: expected ${digest}, got ${actual}`, {
          detail: { expected: digest, actual },
        }),
      );
      return;
    }
    this.result = { digest: actual, size: this.bytes };
    callback();
  }
}
