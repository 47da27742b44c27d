// What a chunked push or pull moved, and the small helpers both share: progress reports and a
// bounded pool of concurrent tasks.

export interface TransferStats {
  /** Chunk extents of the disk (a chunk named twice counts twice). */
  chunks: number;
  /** Distinct chunks. */
  uniqueChunks: number;
  /** Chunk blobs uploaded (push) or downloaded (pull). */
  chunksSent: number;
  chunkBytesSent: number;
  /** Every byte moved: chunk blobs, index blob, config and manifests. */
  bytesSent: number;
  /** Chunk blob bytes already in the registry (push) or taken from the local cache (pull). */
  bytesSkipped: number;
  seconds: number;
}

export interface TransferProgress {
  /** "chunks" (cutting and uploading, or fetching and writing), then "verify" or "manifests". */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export type OnProgress = (progress: TransferProgress) => void;

export const newStats = (): TransferStats => ({
  chunks: 0,
  uniqueChunks: 0,
  chunksSent: 0,
  chunkBytesSent: 0,
  bytesSent: 0,
  bytesSkipped: 0,
  seconds: 0,
});

/**
 * Runs tasks with at most `limit` at once. `add` waits while the pool is full, so a producer
 * never runs ahead by more than `limit` tasks; the first failure is thrown by the next `add` or
 * by `drain`, which waits for every task started.
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`concurrency must be a positive integer (got ${limit})`);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure.error;
    const promise: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** Waits for the tasks started, ignoring their outcome (after a failure elsewhere). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }
}
