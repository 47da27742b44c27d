// Small filesystem helpers shared by the filesystem blob store and the upload store.
import { mkdir, open, readdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, type Writable } from "node:stream";

/** Buffer size of file streams: large chunks keep syscalls and hashing calls few. */
export const STREAM_CHUNK = 1024 * 1024;

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** Flushes a directory so that a rename or unlink inside it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file; true if it existed. */
export async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** A body given as bytes or as a stream, as one stream of Buffers. */
export function toReadable(body: Readable | Uint8Array): Readable {
  if (!(body instanceof Uint8Array)) return body;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Readable.from([bytes], { objectMode: false });
}

/** Names in a directory; none when it does not exist. */
export async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Creates a directory (and parents), making every new directory entry durable. */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let current = dir; ; current = dirname(current)) {
    await syncDir(dirname(current));
    if (current === first) break;
  }
}

/** Destroys a file stream (if still open) and waits until its descriptor is closed. */
export async function closeStream(stream: Writable): Promise<void> {
  if (stream.closed) return;
  const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
  stream.destroy();
  await closed;
}
