// Search across the definitions (name, description, labels) and versions (number, build id,
// source revision) of the galleries the caller reads. The API has no search: the console reads
// every gallery's definitions and their versions once when the page opens, and matches here.
import { useMemo, useState } from "react";
import { api, seg, versionPath, type Definition, type Gallery, type Version } from "../api.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import { Loading, StateBadge, useLoad, useTitle } from "../ui.tsx";

const MAX = 100;

interface Index {
  definitions: Definition[];
  versions: Version[];
}

async function readAll(): Promise<Index> {
  const galleries = await api<Gallery[]>("GET", "/galleries");
  const definitions = (
    await Promise.all(galleries.map((g) => api<Definition[]>("GET", `/galleries/${seg(g.name)}/images`)))
  ).flat();
  const versions = (
    await Promise.all(
      definitions.map((d) =>
        api<Version[]>("GET", `/galleries/${seg(d.gallery)}/images/${seg(d.name)}/versions`),
      ),
    )
  ).flat();
  return { definitions, versions };
}

export default function SearchPage() {
  useTitle("Search");
  const { query } = useLocation();
  const [text, setText] = useState(query.get("q") ?? "");
  const loaded = useLoad(readAll, "search");
  const needle = text.trim().toLowerCase();
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
          navigate(`/search?q=${encodeURIComponent(text.trim())}`, { replace: true });
        }}
      >
        <label>
          Search for
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <Loading polled={loaded}>
        {(index) => (needle === "" ? null : <Results index={index} needle={needle} />)}
      </Loading>
    </>
  );
}

const contains = (value: string | undefined, needle: string): boolean =>
  value !== undefined && value.toLowerCase().includes(needle);

function Results({ index, needle }: { index: Index; needle: string }) {
  const definitions = useMemo(() => {
    const has = (value: string | undefined) => contains(value, needle);
    return index.definitions.filter(
      (d) =>
        has(d.name) ||
        has(d.description) ||
        Object.entries(d.labels ?? {}).some(([k, v]) => has(k) || has(v) || has(`${k}=${v}`)),
    );
  }, [index, needle]);
  const versions = useMemo(() => {
    const has = (value: string | undefined) => contains(value, needle);
    return index.versions.filter((v) => has(v.version) || has(v.buildId) || has(v.sourceRevision));
  }, [index, needle]);
  return (
    <>
      <section aria-labelledby="found-definitions">
        <h2 id="found-definitions">Definitions ({definitions.length})</h2>
        {definitions.length === 0 ? (
          <p className="muted">No definition matches.</p>
        ) : (
          <ul className="plain">
            {definitions.slice(0, MAX).map((d) => (
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
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="found-versions">
        <h2 id="found-versions">Versions ({versions.length})</h2>
        {versions.length === 0 ? (
          <p className="muted">No version matches.</p>
        ) : (
          <ul className="plain">
            {versions.slice(0, MAX).map((v) => (
              <li key={`${v.gallery}/${v.image}:${v.version}`}>
                <Link to={versionPath(v.gallery, v.image, v.version)}>
                  {v.gallery}/{v.image}:{v.version}
                </Link>{" "}
                <StateBadge state={v.state} />
                {v.buildId !== undefined && <span className="muted"> build {v.buildId}</span>}
              </li>
            ))}
          </ul>
        )}
        {versions.length > MAX && <p className="muted">The first {MAX} are shown.</p>}
      </section>
    </>
  );
}
