// A verifying stream: hashes bytes as they pass, caps the size as they arrive, and at the end
// checks the expected size and digest. A mismatch fails the stream before it can be committed.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { type Digest, type DigestAlgorithm, digestAlgorithm } from "./digest.ts";
import { OciFormatError } from "./errors.ts";

export interface VerifyOptions {
  readonly digest?: Digest;
  readonly size?: number;
  /** Fails as soon as more than this many bytes (counting `offset`) arrive. */
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
  private readonly cap: { readonly bytes: number; readonly isLimit: boolean } | undefined;

  constructor(options: VerifyOptions = {}) {
    super();
    checkCount(options.size, "expected size");
    checkCount(options.maxSize, "size limit");
    checkCount(options.offset, "offset");
    if ((options.offset ?? 0) > 0 && options.hash === undefined) {
      throw new TypeError("VerifyStream: an offset needs the hash of the bytes before it");
    }
    if (options.digest !== undefined && options.algorithm !== undefined) {
      if (digestAlgorithm(options.digest) !== options.algorithm) {
        throw new TypeError(
          `VerifyStream: algorithm "${options.algorithm}" disagrees with digest ${options.digest}`,
        );
      }
    }
    this.options = options;
    this.algorithm =
      options.digest !== undefined ? digestAlgorithm(options.digest) : (options.algorithm ?? "sha256");
    this.hash = options.hash ?? createHash(this.algorithm);
    this.bytes = options.offset ?? 0;
    const { size, maxSize } = options;
    // The tighter of the two bounds stops the stream first.
    if (maxSize !== undefined && (size === undefined || maxSize < size))
      this.cap = { bytes: maxSize, isLimit: true };
    else if (size !== undefined) this.cap = { bytes: size, isLimit: false };
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

  /** A copy of the running hash (to resume later); works before and after the end. */
  copyHash(): Hash {
    return this.hash.copy();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const cap = this.cap;
    if (cap !== undefined && this.bytes > cap.bytes) {
      callback(
        new OciFormatError(
          "SIZE_INVALID",
          `Content is larger than ${cap.isLimit ? "the limit of" : "the expected"} ${cap.bytes} bytes`,
          { detail: { limit: cap.bytes, tooLarge: cap.isLimit } },
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
        new OciFormatError(
          "SIZE_INVALID",
          `Content size mismatch: expected ${size} bytes, got ${this.bytes}`,
          {
            detail: { expected: size, actual: this.bytes },
          },
        ),
      );
      return;
    }
    // Digest a copy, so copyHash() still works afterwards (to resume after this chunk).
    const actual = `${this.algorithm}:${this.hash.copy().digest("hex")}` as Digest;
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

function checkCount(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new OciFormatError(
      "SIZE_INVALID",
      `Invalid ${what} ${String(value)}: expected a non-negative integer`,
    );
  }
}
