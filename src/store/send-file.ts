// Writes a byte range of an open file to a writable (an HTTP response) through two reused
// buffers: one is read into while the other is being written, and a buffer is read into again
// only after its write has been flushed. Large blob downloads then allocate nothing per chunk,
// which keeps the garbage collector out of the hot path.
import type { FileHandle } from "node:fs/promises";
import type { Writable } from "node:stream";

const CHUNK = 1024 * 1024;

/** A body that writes itself; `close` releases it when it is never written. */
export interface BodyWriter {
  readonly size: number;
  writeTo(out: Writable): Promise<void>;
  close(): Promise<void>;
}

function write(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = (): void => reject(new Error("Connection closed before the body was sent"));
    out.once("close", onClose);
    out.write(chunk, (error) => {
      out.off("close", onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** Sends bytes start..end (inclusive) of handle to out; the handle is closed afterwards. */
export function fileRangeWriter(handle: FileHandle, start: number, end: number): BodyWriter {
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    size: end - start + 1,
    close,
    async writeTo(out: Writable): Promise<void> {
      const total = end - start + 1;
      const buffers = [
        Buffer.allocUnsafeSlow(Math.min(CHUNK, total)),
        Buffer.allocUnsafeSlow(Math.min(CHUNK, total)),
      ];
      let previous: Promise<void> = Promise.resolve();
      let position = start;
      let turn = 0;
      try {
        while (position <= end) {
          const buffer = buffers[turn] as Buffer;
          turn ^= 1;
          const length = Math.min(buffer.length, end - position + 1);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          if (bytesRead === 0) throw new Error(`File ended at byte ${position}, expected ${end + 1}`);
          await previous;
          previous = write(out, buffer.subarray(0, bytesRead));
          // Marked handled now: it may fail while the next read is awaited; it is awaited below.
          previous.catch(() => undefined);
          position += bytesRead;
        }
        await previous;
      } finally {
        await close();
      }
    },
  };
}
