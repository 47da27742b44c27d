// A guest's serial console as the harness sees it: bytes from QEMU collected as text, waits for
// what the guest prints, typing at it slowly enough for a 16550 UART, and the readable tail of
// it (terminal escapes stripped) that errors carry.
/* eslint-disable no-control-regex -- terminal escapes and keys are control characters */
import type { Readable, Writable } from "node:stream";

// CSI sequences (cursor moves, colours, modes), OSC strings, and two-character escapes.
const ANSI_RE =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOZc]/g;
// Control characters other than tab and newline (carriage returns included).
const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** Text with terminal escapes and control characters removed, as a person would read it. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, "").replace(CONTROL_RE, "");
}

/** The last `lines` non-blank lines of a serial log, escapes stripped. */
export function serialTail(raw: string, lines = 40): string {
  const text = stripAnsi(raw.replace(/\x1b\[\d+;\d+H/g, "\n"));
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "")
    .slice(-lines)
    .join("\n");
}

/** How much of a serial log is kept in memory: enough for any wait and the tail. */
const KEEP = 1024 * 1024;

export interface TypeOptions {
  /** Bytes written at once; default 16 (a 16550's receive FIFO). */
  readonly chunk?: number;
  /** Pause between chunks in ms; default 20. */
  readonly delayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A serial console read from `output` and typed at through `input`. */
export class SerialConsole {
  #text = "";
  /** Characters dropped from the front of #text, so positions stay absolute. */
  #dropped = 0;
  #waiters = new Set<() => void>();
  #ended = false;

  constructor(
    output: Readable,
    private readonly input: Writable,
    private readonly onData?: (chunk: string) => void,
  ) {
    output.setEncoding("latin1");
    output.on("data", (chunk: string) => {
      this.#text += chunk;
      if (this.#text.length > 2 * KEEP) {
        const cut = this.#text.length - KEEP;
        this.#text = this.#text.slice(cut);
        this.#dropped += cut;
      }
      this.onData?.(chunk);
      this.#wake();
    });
    output.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
    input.on("error", () => {
      // QEMU may exit while a write is pending; its exit is reported by the caller.
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Absolute position of the end of what was read so far. */
  get position(): number {
    return this.#dropped + this.#text.length;
  }

  /** What was read since absolute position `from` (escapes kept). */
  since(from: number): string {
    return this.#text.slice(Math.max(0, from - this.#dropped));
  }

  /** Everything kept (the last megabyte or two). */
  get raw(): string {
    return this.#text;
  }

  tail(lines = 40): string {
    return serialTail(this.#text, lines);
  }

  /**
   * Waits until the text read since `from` matches `pattern` (escapes stripped when `plain`);
   * resolves with the match's end position, or undefined at the deadline or when output ends.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs: number,
    from = this.position,
    plain = false,
  ): Promise<number | undefined> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const seen = this.since(from);
        const text = plain ? stripAnsi(seen) : seen;
        const m = pattern.exec(text);
        if (m !== null) {
          finish(plain ? this.position : from + m.index + m[0].length);
          return true;
        }
        if (this.#ended) finish(undefined);
        return this.#ended;
      };
      const finish = (at: number | undefined) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(at);
      };
      const waiter = () => void check();
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.#waiters.add(waiter);
      check();
    });
  }

  /** Writes `text` in small chunks with pauses, so the guest's UART drops nothing. */
  async type(text: string, options: TypeOptions = {}): Promise<void> {
    const chunk = options.chunk ?? 16;
    const delay = options.delayMs ?? 20;
    for (let i = 0; i < text.length; i += chunk) {
      if (this.#ended) return;
      this.input.write(Buffer.from(text.slice(i, i + chunk), "latin1"));
      await sleep(delay);
    }
  }

  /**
   * Types one shell line and waits (at most `timeoutMs`) until the guest echoes its end, so the
   * next line is not typed into a full input buffer. A missing echo is not an error: kernel
   * messages may interleave with it.
   */
  async typeLine(line: string, timeoutMs = 3000): Promise<void> {
    const from = this.position;
    await this.type(`${line}\n`);
    const tail = line.slice(-12);
    if (tail.trim() === "") return;
    await this.waitFor(new RegExp(escapeRegExp(tail)), timeoutMs, from, true);
  }
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
