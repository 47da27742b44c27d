// A pass-through that counts the bytes it passes and fails, with the caller's error, as soon as
// they exceed a limit (an uncompressed layer past its allowed size: a gzip bomb).
import { Transform, type TransformCallback } from "node:stream";

export class ByteCap extends Transform {
  /** Bytes passed so far. */
  bytes = 0;

  constructor(
    private readonly limit: number,
    /** The error to fail with once more than `limit` bytes came. */
    private readonly fail: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return done(this.fail());
    done(null, chunk);
  }
}
