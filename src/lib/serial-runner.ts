// One pass at a time of a background loop (the webhook outbox, the replication reconciler): a
// kick while a pass runs asks for one more pass after it, never a second pass beside it.

export interface SerialRunner {
  /** Runs a pass now, or once more after the running one. */
  kick(): void;
  /** Resolves when no pass runs and none is asked for. */
  settled(): Promise<void>;
}

export function serialRunner(
  pass: () => Promise<void>,
  options: {
    /** No pass starts, and none is repeated, while this says so. */
    readonly stopped: () => boolean;
    /** A pass that threw; the loop goes on. */
    readonly onError: (err: unknown) => void;
  },
): SerialRunner {
  let running: Promise<void> | undefined;
  let again = false;
  return {
    kick(): void {
      if (options.stopped()) return;
      if (running !== undefined) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          try {
            await pass();
          } catch (err) {
            options.onError(err);
          }
        } while (again && !options.stopped());
      })().finally(() => {
        running = undefined;
      });
    },
    async settled(): Promise<void> {
      while (running !== undefined) await running;
    },
  };
}
