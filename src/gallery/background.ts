// Work a change leaves for after its answer: derived data such as a version's computed changes,
// which read whole images and need not hold up the publish that caused them. Tasks run one at a
// time in the order queued; a failing task is logged, never thrown at the caller. `idle()`
// resolves when nothing is queued or running, and the service waits for it when it closes.
import type { Logger } from "pino";

export interface Background {
  /** Queues `task` after those already queued. */
  run(what: string, task: () => Promise<unknown>): void;
  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void>;
}

export function createBackground(log: Logger): Background {
  let tail: Promise<void> = Promise.resolve();
  return {
    run(what, task) {
      tail = tail.then(async () => {
        try {
          await task();
        } catch (error) {
          log.warn({ err: error }, `Background task failed: ${what}: ${(error as Error).message}`);
        }
      });
    },
    idle: async () => {
      // Tasks queued while waiting are waited for too.
      for (let seen: Promise<void> | undefined; seen !== tail;) {
        seen = tail;
        await seen;
      }
    },
  };
}
