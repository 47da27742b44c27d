// The input and output a command writes to, injected so tests need no subprocess.
import type { Readable, Writable } from "node:stream";

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdin: Readable;
  readonly env: Record<string, string | undefined>;
}
