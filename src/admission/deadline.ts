// Runs an injected function under the admission timeout: its signal aborts at the deadline and
// the caller gets "timeout" without waiting for a function that ignores the signal.

export type Bounded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly timedOut: true }
  | { readonly ok: false; readonly timedOut: false; readonly error: unknown };

export async function within<T>(
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<Bounded<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Bounded<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`Timed out after ${timeoutMs} ms`));
      resolve({ ok: false, timedOut: true });
    }, timeoutMs);
  });
  const settled = (async (): Promise<Bounded<T>> => {
    try {
      return { ok: true, value: await run(controller.signal) };
    } catch (error) {
      return { ok: false, timedOut: false, error };
    }
  })();
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** `1500` → "1.5s", `5000` → "5s", `250` → "250ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
