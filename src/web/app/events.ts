// The console's one event stream: an EventSource on /api/v1/events, opened when the first page
// subscribes and shared by all of them. Pages subscribe with a filter on what they show; a change
// that matches makes them read again at once. The browser reconnects by itself after a dropped
// connection; a refused one (401 before sign-in) is tried again after a while and at every
// sign-in or sign-out; a hidden tab closes it and opens it again when shown. After any
// reconnection every subscriber reads again, since changes made while the stream was down were
// not sent. Polling (ui.tsx) goes on beside it: with several servers on one database, a server
// streams only the changes made through itself.
import { onSessionChange } from "./api.ts";
import { matches, type Change, type Watch } from "./watch.ts";

export type { Change, Watch } from "./watch.ts";

interface Subscriber {
  watch: Watch | undefined;
  /** `undefined`: read again whatever changed (the stream reconnected). */
  onChange(change: Change | undefined): void;
}

const RETRY_REFUSED_MS = 30_000;
const subscribers = new Set<Subscriber>();
const statusListeners = new Set<() => void>();
let source: EventSource | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
let connected = false;
let everConnected = false;

/** Whether the stream is open now (the "Updated" line says so). */
export function isLive(): boolean {
  return connected;
}

/** Calls `listener` when the stream opens or drops; returns the unsubscribe. */
export function onLiveChange(listener: () => void): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

function setConnected(value: boolean): void {
  if (connected === value) return;
  connected = value;
  for (const listener of statusListeners) listener();
}

function open(): void {
  clearTimeout(retry);
  source?.close();
  if (typeof EventSource === "undefined") return;
  const es = new EventSource("/api/v1/events", { withCredentials: true });
  source = es;
  es.addEventListener("ready", () => {
    setConnected(true);
    if (everConnected) for (const s of subscribers) s.onChange(undefined);
    everConnected = true;
  });
  es.addEventListener("change", (event) => {
    let change: Change;
    try {
      change = JSON.parse((event as MessageEvent<string>).data) as Change;
    } catch {
      return;
    }
    for (const s of subscribers) if (matches(s.watch, change)) s.onChange(change);
  });
  es.addEventListener("error", () => {
    setConnected(false);
    // CLOSED: refused (not signed in, or the server answered something else); CONNECTING: the
    // browser tries again by itself.
    if (es.readyState === EventSource.CLOSED && source === es) {
      retry = setTimeout(() => {
        if (subscribers.size > 0 && document.visibilityState !== "hidden") open();
      }, RETRY_REFUSED_MS);
    }
  });
}

onSessionChange(() => {
  if (source !== undefined) open();
});

// A hidden tab gives its connection back (browsers allow a handful per server over HTTP/1.1, and
// each open stream holds one); it opens again, and every page reads again, when shown.
if (typeof document !== "undefined")
  document.addEventListener("visibilitychange", () => {
    if (source === undefined) return;
    if (document.visibilityState === "hidden") {
      clearTimeout(retry);
      source.close();
      setConnected(false);
    } else if (source.readyState === EventSource.CLOSED) open();
  });

/** Calls `onChange` for every change matching `watch`; returns the unsubscribe. */
export function subscribe(
  watch: Watch | undefined,
  onChange: (change: Change | undefined) => void,
): () => void {
  const subscriber: Subscriber = { watch, onChange };
  subscribers.add(subscriber);
  if (source === undefined) open();
  return () => subscribers.delete(subscriber);
}
