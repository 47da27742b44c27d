// The whole disk's sha256, taken from the read buffers of a pass over the disk: either inline (one
// core) or in a worker thread that each buffer is handed to (transferred, not copied) once the
// main thread is done with it and that hands it back when hashed, so the main thread's work
// (cutting and hashing chunks, or writing them) and the whole-disk hash run on two cores with a
// few buffers in flight and no allocation per read. A buffer may also be lent for hashing only
// (hash(): handed back once hashed, for the caller to write out before release()), and a run of
// zeros (a hole of a pulled disk) is fed as its length alone and hashed from a zero buffer of the
// hasher's own. The worker's code is plain JavaScript
// evaluated as a string, so it runs the same from the TypeScript sources and from the bundle.
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";

export type WholeDigestMode = "inline" | "worker";

export interface WholeDigest {
  /** A buffer of the size given to read into (at most `pool` are out at once). */
  buffer(): Promise<Buffer>;
  /** Hashes `buffer[0, length)` next; the buffer belongs to the hasher from now on. */
  feed(buffer: Buffer, length: number): void;
  /**
   * Hashes `buffer[0, length)` next and hands the buffer (a new view of the same memory) back once
   * hashed; it stays out of the pool until release().
   */
  hash(buffer: Buffer, length: number): Promise<Buffer>;
  /** Gives back a buffer hash() handed back. */
  release(buffer: Buffer): void;
  /** Hashes `length` zero bytes next. */
  feedZeros(length: number): void;
  /** `sha256:<hex>` of everything fed; ends the worker. */
  digest(): Promise<string>;
  /** Ends the worker without a digest (after a failure). */
  close(): void;
}

/** Bytes of the zero buffer runs of zeros are hashed from. */
const ZEROS_SIZE = 1024 * 1024;

const WORKER = `
const { parentPort } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
let zeros;
parentPort.on("message", (m) => {
  if (m.end) {
    parentPort.postMessage({ digest: hash.digest("hex") });
    return;
  }
  if (m.zeros !== undefined) {
    zeros ??= new Uint8Array(${ZEROS_SIZE});
    for (let left = m.zeros; left > 0; left -= zeros.length)
      hash.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
    return;
  }
  hash.update(new Uint8Array(m.buffer, 0, m.length));
  parentPort.postMessage({ buffer: m.buffer }, [m.buffer]);
});
`;

/** At most `pool` buffers of `size` bytes out at once; buffer() waits for one to come back. */
class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private allocated = 0;
  private waiting: { resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly size: number,
    private readonly pool: number,
  ) {}

  async take(): Promise<Buffer> {
    const ready = this.free.pop();
    if (ready !== undefined) return Buffer.from(ready);
    if (this.allocated < this.pool) {
      this.allocated++;
      return Buffer.from(new ArrayBuffer(this.size));
    }
    return Buffer.from(
      await new Promise<ArrayBuffer>((resolve, reject) => this.waiting.push({ resolve, reject })),
    );
  }

  give(buffer: ArrayBuffer): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(buffer);
    else this.free.push(buffer);
  }

  fail(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function checkWhole(b: Buffer): ArrayBuffer {
  if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength)
    throw new TypeError("the hasher takes a buffer from buffer()");
  return b.buffer as ArrayBuffer;
}

function inline(size: number, pool: number): WholeDigest {
  const hash = createHash("sha256");
  const buffers = new BufferPool(size, pool);
  let zeros: Buffer | undefined;
  return {
    buffer: () => buffers.take(),
    feed(b, length) {
      hash.update(b.subarray(0, length));
      buffers.give(checkWhole(b));
    },
    hash(b, length) {
      hash.update(b.subarray(0, length));
      return Promise.resolve(b);
    },
    release: (b) => buffers.give(checkWhole(b)),
    feedZeros(length) {
      zeros ??= Buffer.alloc(ZEROS_SIZE);
      for (let left = length; left > 0; left -= zeros.length)
        hash.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
    },
    digest: () => Promise.resolve(`sha256:${hash.digest("hex")}`),
    close: () => undefined,
  };
}

function threaded(size: number, pool: number): WholeDigest {
  const worker = new Worker(WORKER, { eval: true });
  const buffers = new BufferPool(size, pool);
  // Who each buffer posted to the worker goes to when it comes back (in order): the pool, or a
  // hash() caller.
  const returns: (((b: Buffer) => void) | undefined)[] = [];
  const lent = new Set<{ reject: (e: Error) => void }>();
  let finishing: { resolve: (d: string) => void; reject: (e: Error) => void } | undefined;
  let failed: Error | undefined;
  const fail = (error: Error): void => {
    failed ??= error;
    buffers.fail(error);
    finishing?.reject(error);
    for (const l of lent) l.reject(error);
    lent.clear();
    finishing = undefined;
  };
  worker.on("message", (m: { buffer?: ArrayBuffer; digest?: string }) => {
    if (m.buffer !== undefined) {
      const to = returns.shift();
      if (to === undefined) buffers.give(m.buffer);
      else to(Buffer.from(m.buffer));
    } else if (m.digest !== undefined) finishing?.resolve(`sha256:${m.digest}`);
  });
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`the digest worker exited (code ${code})`)));
  const post = (b: Buffer, length: number): void => {
    const ab = checkWhole(b);
    worker.postMessage({ buffer: ab, length }, [ab]);
  };
  return {
    async buffer() {
      if (failed !== undefined) throw failed;
      return buffers.take();
    },
    feed(b, length) {
      post(b, length);
      returns.push(undefined);
    },
    hash(b, length) {
      if (failed !== undefined) return Promise.reject(failed);
      post(b, length);
      return new Promise<Buffer>((resolve, reject) => {
        const entry = { reject };
        lent.add(entry);
        returns.push((back) => {
          lent.delete(entry);
          resolve(back);
        });
      });
    },
    release: (b) => buffers.give(checkWhole(b)),
    feedZeros(length) {
      if (length > 0) worker.postMessage({ zeros: length });
    },
    async digest() {
      if (failed !== undefined) throw failed;
      const done = new Promise<string>((resolve, reject) => (finishing = { resolve, reject }));
      worker.postMessage({ end: true });
      try {
        return await done;
      } finally {
        worker.removeAllListeners("exit");
        void worker.terminate();
      }
    },
    close() {
      worker.removeAllListeners("exit");
      void worker.terminate();
    },
  };
}

/** A whole-disk hasher reading `size`-byte buffers, `pool` at most out at once. */
export function wholeDigest(mode: WholeDigestMode, size: number, pool = 3): WholeDigest {
  return mode === "worker" ? threaded(size, pool) : inline(size, pool);
}
