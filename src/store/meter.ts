// A pass-through that counts bytes, feeds an optional running hash, and fails as soon as a
// check rejects the count (a chunk longer than announced, an upload over its size limit).
import type { Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

export class Meter extends Transform {
  /** Bytes passed so far. */
  bytes = 0;

  constructor(
    private readonly hash: Hash | undefined,
    /** Returns an error to fail with once `bytes` is too many, else undefined. */
    private readonly check: (bytes: number) => Error | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const error = this.check(this.bytes);
    if (error !== undefined) {
      callback(error);
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }
}
