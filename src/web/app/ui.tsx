// Pieces every page uses: live data (each page reads again at once when the event stream names
// a change it shows, and every few seconds while the tab is visible, with If-None-Match so an
// unchanged answer costs a 304; it shows when it last read), error and loading notes, a
// confirmation dialog that says what will happen, and small formatters.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { ApiError } from "./api.ts";
import { isLive, onLiveChange, subscribe, type Watch } from "./events.ts";
import { Link } from "./router.tsx";

export type { Watch } from "./events.ts";

/** The polling interval's setting in localStorage, in seconds; 0 turns polling off. */
export const POLL_SETTING = "strata.pollSeconds";
const DEFAULT_POLL_MS = 5000;

/** Every how many ms pages read again (0: only on events); read once, when the console loads. */
export const POLL_MS = pollSetting();

function pollSetting(): number {
  try {
    const raw = localStorage.getItem(POLL_SETTING)?.trim();
    if (raw !== undefined && /^\d{1,6}$/.test(raw)) return Number(raw) * 1000;
  } catch {
    // Storage refused (a privacy setting): the default.
  }
  return DEFAULT_POLL_MS;
}

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  updatedAt: Date | undefined;
  reload(): void;
}

/**
 * Loads with `load` now, at once after a change `watch` matches (every change when undefined),
 * and every POLL_MS while the page is visible; reloads when key changes. One load runs at a time:
 * changes arriving meanwhile make one more.
 */
export function usePoll<T>(load: () => Promise<T>, key: string, watch?: Watch): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; updatedAt?: Date; key: string }>({ key });
  const loadRef = useRef(load);
  loadRef.current = load;
  const watchRef = useRef(watch);
  watchRef.current = watch;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    const schedule = () => {
      if (POLL_MS <= 0) return;
      timer = setTimeout(function next() {
        if (document.visibilityState === "visible") run();
        else timer = setTimeout(next, POLL_MS);
      }, POLL_MS);
    };
    const run = () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      clearTimeout(timer);
      loadRef
        .current()
        .then(
          // An unchanged answer is the same object again (a 304 of api()): only the time moves.
          (data) => live && setState({ data, updatedAt: new Date(), key }),
          (error: unknown) =>
            live &&
            setState((s) => ({
              ...(s.key === key && s.data !== undefined ? { data: s.data } : {}),
              error: error instanceof Error ? error : new Error(String(error)),
              updatedAt: new Date(),
              key,
            })),
        )
        .finally(() => {
          running = false;
          if (!live) return;
          if (again) {
            again = false;
            run();
          } else schedule();
        });
    };
    run();
    const unsubscribe = subscribe(watchRef.current, () => run());
    return () => {
      live = false;
      clearTimeout(timer);
      unsubscribe();
    };
  }, [key, tick]);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    updatedAt: current ? state.updatedAt : undefined,
    reload,
  };
}

/** Loads with `load` once per key (for what is costly to read and rarely changes). */
export function useLoad<T>(load: () => Promise<T>, key: string): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; updatedAt?: Date; key: string }>({ key });
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    loadRef.current().then(
      (data) => live && setState({ data, updatedAt: new Date(), key }),
      (error: unknown) =>
        live &&
        setState({
          error: error instanceof Error ? error : new Error(String(error)),
          updatedAt: new Date(),
          key,
        }),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    updatedAt: current ? state.updatedAt : undefined,
    reload,
  };
}

/** When the page last read, and how it stays current: live (the event stream is open) and/or polling. */
export function Updated({ at }: { at: Date | undefined }) {
  const live = useSyncExternalStore(onLiveChange, isLive);
  if (at === undefined) return null;
  const polling = POLL_MS > 0 ? `refreshes every ${POLL_MS / 1000} s` : "automatic refresh off";
  return (
    <p className="updated" aria-live="off">
      Updated <time dateTime={at.toISOString()}>{at.toLocaleTimeString()}</time> ·{" "}
      {live ? (POLL_MS > 0 ? `live, and checked every ${POLL_MS / 1000} s` : "live") : polling}
    </p>
  );
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (error === undefined) return null;
  const signIn = error instanceof ApiError && error.status === 401;
  return (
    <p className="error" role="alert">
      {error.message}
      {signIn && (
        <>
          {" "}
          ·{" "}
          <Link to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`}>Sign in</Link>
        </>
      )}
    </p>
  );
}

export function Loading<T>({ polled, children }: { polled: Polled<T>; children: (data: T) => ReactNode }) {
  if (polled.data === undefined) {
    return polled.error === undefined ? (
      <p className="muted">Loading…</p>
    ) : (
      <ErrorNote error={polled.error} />
    );
  }
  return (
    <>
      <ErrorNote error={polled.error} />
      {children(polled.data)}
    </>
  );
}

/**
 * A modal dialog (the platform's <dialog>: focus moves in, Escape cancels) that states what will
 * happen and runs `onConfirm` only when the user confirms.
 */
export function Confirm(props: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const { onClose } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
    const cancel = () => onClose();
    dialog?.addEventListener("close", cancel);
    return () => dialog?.removeEventListener("close", cancel);
  }, [onClose]);
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      ref.current?.close();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" className="confirm">
      <h2 id="confirm-title">{props.title}</h2>
      {props.children}
      <ErrorNote error={error} />
      <div className="actions">
        <button type="button" onClick={() => ref.current?.close()} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className={props.danger === true ? "danger" : "primary"}
          onClick={() => void confirm()}
          disabled={busy}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Previous / next buttons over a list shown a page at a time, with where the reader is. */
export function Pager(props: {
  label: string;
  current: number;
  pages: number;
  count: number;
  noun: string;
  onPage: (page: number) => void;
}) {
  const { label, current, pages, count, noun, onPage } = props;
  return (
    <nav aria-label={label} className="pager">
      <button type="button" disabled={current === 0} onClick={() => onPage(current - 1)}>
        Previous
      </button>
      <span>
        Page {current + 1} of {pages} · {count} {noun}
      </span>
      <button type="button" disabled={current >= pages - 1} onClick={() => onPage(current + 1)}>
        Next
      </button>
    </nav>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}

export const date = (iso: string | undefined): string =>
  iso === undefined ? "—" : new Date(iso).toISOString().replace("T", " ").slice(0, 16) + " UTC";

export const day = (iso: string | undefined): string => (iso === undefined ? "—" : iso.slice(0, 10));

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export const shortDigest = (digest: string): string =>
  digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1…");

/** Sets the document's title for the page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Strata`;
  }, [title]);
}
