// The whole disk's sha256, taken from the read buffers of a pass over the disk: either inline (one
// core) or in a worker thread that each buffer is handed to (transferred, not copied) once the
// main thread is done with it and that hands it back when hashed, so the main thread's work
// (cutting and hashing chunks, or writing them) and the whole-disk hash run on two cores with a
// few buffers in flight and no allocation per read. The worker's code is plain JavaScript
// evaluated as a string, so it runs the same from the TypeScript sources and from the bundle.
import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";

export type WholeDigestMode = "inline" | "worker";

export interface WholeDigest {
  /**
   * A buffer of the size given to read into: at most `pool` are out at once in a worker, and two
   * inline, handed out in turn (so at most two may be held, and each is fed before it comes again).
   */
  buffer(): Promise<Buffer>;
  /** Hashes `buffer[0, length)` next; the buffer belongs to the hasher from now on. */
  feed(buffer: Buffer, length: number): void;
  /** `sha256:<hex>` of everything fed; ends the worker. */
  digest(): Promise<string>;
  /** Ends the worker without a digest (after a failure). */
  close(): void;
}

const WORKER = `
const { parentPort } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
parentPort.on("message", (m) => {
  if (m.end) {
    parentPort.postMessage({ digest: hash.digest("hex") });
    return;
  }
  hash.update(new Uint8Array(m.buffer, 0, m.length));
  parentPort.postMessage({ buffer: m.buffer }, [m.buffer]);
});
`;

function inline(size: number): WholeDigest {
  const hash = createHash("sha256");
  // Two, taken in turn: one being read into while the other is used (and then fed).
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let turn = 0;
  return {
    buffer: () => Promise.resolve(buffers[turn++ % 2]!),
    feed: (b, length) => void hash.update(b.subarray(0, length)),
    digest: () => Promise.resolve(`sha256:${hash.digest("hex")}`),
    close: () => undefined,
  };
}

function threaded(size: number, pool: number): WholeDigest {
  const worker = new Worker(WORKER, { eval: true });
  const free: ArrayBuffer[] = [];
  let allocated = 0;
  let waiting: { resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void } | undefined;
  let finishing: { resolve: (d: string) => void; reject: (e: Error) => void } | undefined;
  let failed: Error | undefined;
  const fail = (error: Error): void => {
    failed ??= error;
    waiting?.reject(error);
    finishing?.reject(error);
    waiting = finishing = undefined;
  };
  worker.on("message", (m: { buffer?: ArrayBuffer; digest?: string }) => {
    if (m.buffer !== undefined) {
      if (waiting !== undefined) {
        const w = waiting;
        waiting = undefined;
        w.resolve(m.buffer);
      } else free.push(m.buffer);
    } else if (m.digest !== undefined) finishing?.resolve(`sha256:${m.digest}`);
  });
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`the digest worker exited (code ${code})`)));
  return {
    async buffer() {
      if (failed !== undefined) throw failed;
      const ready = free.pop();
      if (ready !== undefined) return Buffer.from(ready);
      if (allocated < pool) {
        allocated++;
        return Buffer.from(new ArrayBuffer(size));
      }
      return Buffer.from(
        await new Promise<ArrayBuffer>((resolve, reject) => (waiting = { resolve, reject })),
      );
    },
    feed(b, length) {
      if (b.byteOffset !== 0 || b.byteLength !== b.buffer.byteLength)
        throw new TypeError("feed() takes a buffer from buffer()");
      worker.postMessage({ buffer: b.buffer, length }, [b.buffer as ArrayBuffer]);
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

/** A whole-disk hasher reading `size`-byte buffers; `pool` buffers at most in a worker. */
export function wholeDigest(mode: WholeDigestMode, size: number, pool = 3): WholeDigest {
  return mode === "worker" ? threaded(size, pool) : inline(size);
}
