// Progress of long commands on standard error: one line per event (steps, cache hits, blobs),
// and on a terminal a bar for the blob being moved, redrawn in place at most ten times a second.
// Quiet (--json) prints nothing.
import type { CliIo } from "./io.ts";

export interface Progress {
  /** An event, on its own line. */
  line(text: string): void;
  /** Output passed through as it comes (a RUN step's). */
  raw(chunk: Buffer): void;
  /** Bytes of a blob moved so far; drawn as a bar on a terminal only. */
  bytes(digest: string, done: number, total: number): void;
  /** Clears a bar left on the screen. */
  done(): void;
}

const WIDTH = 30;

const mib = (n: number): string => (n / 1048576).toFixed(1);

/** The bar for `done` of `total` bytes: `sha256:0123abcd [=====     ] 1.5/3.0 MiB`. */
export function renderBar(digest: string, done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * WIDTH);
  return `  ${digest.slice(0, 19)} [${"=".repeat(filled)}${" ".repeat(WIDTH - filled)}] ${mib(done)}/${mib(total)} MiB`;
}

export function createProgress(io: CliIo, quiet: boolean): Progress {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let bar = false;
  let last = 0;
  const clear = (): void => {
    if (bar) io.stderr.write("\r\x1b[K");
    bar = false;
  };
  if (quiet)
    return { line: () => undefined, raw: () => undefined, bytes: () => undefined, done: () => undefined };
  return {
    line(text) {
      clear();
      io.stderr.write(`${text}\n`);
    },
    raw(chunk) {
      clear();
      io.stderr.write(chunk);
    },
    bytes(digest, done, total) {
      if (!tty) return;
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      io.stderr.write(`\r\x1b[K${renderBar(digest, done, total)}`);
      bar = true;
    },
    done: clear,
  };
}
