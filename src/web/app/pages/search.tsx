// Search across the definitions (name, description, labels) and versions (number, build id,
// source revision) of the galleries the caller reads, done by the server (GET /search): the page
// asks as the user types (after a short pause) and shows the first 20 of each kind with their
// totals; "More" asks for the next 20 of that kind with the server's cursor. The text lives in
// the address, so a search can be shared.
import { useEffect, useState, type ReactNode } from "react";
import { api, seg, versionPath, type Definition, type SearchResults, type Version } from "../api.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import { ErrorNote, Loading, StateBadge, useLoad, useTitle } from "../ui.tsx";

const PAUSE_MS = 250;

const searchPath = (needle: string, more?: { kind: string; after: string }) =>
  `/search?${new URLSearchParams({ q: needle, ...(more === undefined ? {} : more) }).toString()}`;

export default function SearchPage() {
  useTitle("Search");
  const { query } = useLocation();
  const [text, setText] = useState(query.get("q") ?? "");
  const [needle, setNeedle] = useState(text.trim());
  useEffect(() => {
    const timer = setTimeout(() => {
      const next = text.trim();
      if (next === needle) return;
      setNeedle(next);
      navigate(next === "" ? "/search" : `/search?q=${encodeURIComponent(next)}`, { replace: true });
    }, PAUSE_MS);
    return () => clearTimeout(timer);
  }, [text, needle]);
  return (
    <>
      <h1>Search</h1>
      <p className="muted">
        Definitions by name, description and labels; versions by number, build id and source revision; in the
        galleries you read.
      </p>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setNeedle(text.trim());
          navigate(`/search?q=${encodeURIComponent(text.trim())}`, { replace: true });
        }}
      >
        <label>
          Search for
          <input type="search" value={text} maxLength={100} onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      {needle !== "" && <Results key={needle} needle={needle} />}
    </>
  );
}

function Results({ needle }: { needle: string }) {
  const loaded = useLoad(() => api<SearchResults>("GET", searchPath(needle)), needle);
  return (
    <Loading polled={loaded}>
      {(found) => (
        <>
          <Found
            kind="definitions"
            title="Definitions"
            needle={needle}
            first={found.definitions}
            empty="No definition matches."
            render={(d: Definition) => (
              <li key={`${d.gallery}/${d.name}`}>
                <Link to={`/galleries/${seg(d.gallery)}/images/${seg(d.name)}`}>
                  {d.gallery}/{d.name}
                </Link>
                {d.description !== undefined && <span className="muted"> — {d.description}</span>}
                {d.labels !== undefined && Object.keys(d.labels).length > 0 && (
                  <ul className="labels">
                    {Object.entries(d.labels).map(([k, v]) => (
                      <li key={k}>
                        <code>
                          {k}={v}
                        </code>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            )}
          />
          <Found
            kind="versions"
            title="Versions"
            needle={needle}
            first={found.versions}
            empty="No version matches."
            render={(v: Version) => (
              <li key={`${v.gallery}/${v.image}:${v.version}`}>
                <Link to={versionPath(v.gallery, v.image, v.version)}>
                  {v.gallery}/{v.image}:{v.version}
                </Link>{" "}
                <StateBadge state={v.state} />
                {v.buildId !== undefined && <span className="muted"> build {v.buildId}</span>}
              </li>
            )}
          />
        </>
      )}
    </Loading>
  );
}

/** One kind of result: the first page, and further pages appended by "More". */
function Found<T>(props: {
  kind: "definitions" | "versions";
  title: string;
  needle: string;
  first: { items: T[]; total: number; next?: string };
  empty: string;
  render: (item: T) => ReactNode;
}) {
  const [extra, setExtra] = useState<{ items: T[]; next?: string }>({ items: [] });
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const items = [...props.first.items, ...extra.items];
  const next = extra.items.length === 0 ? props.first.next : extra.next;
  const more = async (after: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const page = await api<SearchResults>("GET", searchPath(props.needle, { kind: props.kind, after }));
      const found = page[props.kind] as unknown as { items: T[]; next?: string };
      setExtra((e) => ({
        items: [...e.items, ...found.items],
        ...(found.next === undefined ? {} : { next: found.next }),
      }));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const id = `found-${props.kind}`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>
        {props.title} ({props.first.total})
      </h2>
      {items.length === 0 ? (
        <p className="muted">{props.empty}</p>
      ) : (
        <ul className="plain">{items.map(props.render)}</ul>
      )}
      {next !== undefined && (
        <p>
          <button type="button" disabled={busy} onClick={() => void more(next)}>
            More {props.title.toLowerCase()} ({items.length} of {props.first.total} shown)
          </button>
        </p>
      )}
      <ErrorNote error={error} />
    </section>
  );
}
