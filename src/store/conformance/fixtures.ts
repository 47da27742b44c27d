// Test fixtures for the storage suites: generated content, bodies that arrive in chunks or fail
// midway, and assertions on StoreError codes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { type Digest, digestOf } from "../../oci/index.ts";
import { StoreError, type StoreErrorCode } from "../errors.ts";

export interface Content {
  readonly bytes: Buffer;
  readonly digest: Digest;
  readonly size: number;
}

/** Random content of `size` bytes with its sha256 digest. */
export function content(size: number): Content {
  const bytes = randomBytes(size);
  return { bytes, digest: digestOf(bytes), size };
}

/** A body delivering bytes in chunks of `chunk` bytes. */
export function chunked(bytes: Buffer, chunk = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  return Readable.from(parts, { objectMode: false });
}

/** A body that delivers `after` bytes, then fails as a dropped connection does. */
export function failing(
  bytes: Buffer,
  after: number,
  error = new Error("connection reset by peer"),
): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes.subarray(0, after));
        return;
      }
      setImmediate(() => this.destroy(error));
    },
  });
}

export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Asserts that `promise` rejects with a StoreError of `code` whose message matches `message`. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: StoreErrorCode,
  message?: RegExp,
): Promise<StoreError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof StoreError, `expected a StoreError, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}
