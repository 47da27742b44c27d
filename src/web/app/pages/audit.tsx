// A gallery's audit log, newest first, filtered and paged by the server (actor, action,
// definition, time range; pages by entry id: Older after the page's last id, Newer before its
// first, Newest), with links to what each entry names; a log of any length reads one page. The
// filters live in the address, so a filtered view can be shared.
import { useState, type FormEvent } from "react";
import { api, seg, versionPath, type AuditEntry, type Gallery } from "../api.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import { date, Loading, Updated, usePoll, useTitle } from "../ui.tsx";

const PAGE = 50;
const FIELDS = ["actor", "action", "image", "since", "until"] as const;

export default function AuditPage() {
  useTitle("Audit log");
  const { query } = useLocation();
  const galleries = usePoll(() => api<Gallery[]>("GET", "/galleries"), "audit-galleries");
  const gallery = query.get("gallery") ?? galleries.data?.[0]?.name ?? "";
  return (
    <>
      <h1>Audit log</h1>
      <Loading polled={galleries}>
        {(list) =>
          list.length === 0 ? (
            <p>You are not a member of any gallery.</p>
          ) : (
            <Filters key={query.toString()} gallery={gallery} galleries={list} query={query} />
          )
        }
      </Loading>
      {gallery !== "" && <Entries gallery={gallery} query={query} />}
    </>
  );
}

function Filters({
  gallery,
  galleries,
  query,
}: {
  gallery: string;
  galleries: Gallery[];
  query: URLSearchParams;
}) {
  const [values, setValues] = useState<Record<string, string>>(() => {
    const v: Record<string, string> = { gallery };
    for (const f of FIELDS) v[f] = query.get(f) ?? "";
    return v;
  });
  const set = (name: string, value: string) => setValues((v) => ({ ...v, [name]: value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(values)) if (v.trim() !== "") next.set(k, v.trim());
    navigate(`/audit?${next.toString()}`);
  };
  const input = (name: (typeof FIELDS)[number], label: string, placeholder: string) => (
    <label>
      {label}
      <input
        value={values[name] ?? ""}
        onChange={(e) => set(name, e.target.value)}
        placeholder={placeholder}
      />
    </label>
  );
  return (
    <form className="filters" onSubmit={submit} aria-label="Audit filters">
      <label>
        Gallery
        <select value={values.gallery} onChange={(e) => set("gallery", e.target.value)}>
          {galleries.map((g) => (
            <option key={g.name}>{g.name}</option>
          ))}
        </select>
      </label>
      {input("actor", "Actor", "alice")}
      {input("action", "Action", "version.deprecate")}
      {input("image", "Definition", "web")}
      {input("since", "Since", "2026-01-01")}
      {input("until", "Until", "2026-12-31T23:59:59Z")}
      <button type="submit" className="primary">
        Apply
      </button>
    </form>
  );
}

function Entries({ gallery, query }: { gallery: string; query: URLSearchParams }) {
  const params = new URLSearchParams();
  for (const f of FIELDS) {
    const v = query.get(f);
    if (v !== null && v !== "") params.set(f, v);
  }
  const cursorOf = (name: string) => {
    const v = query.get(name);
    return v !== null && /^[0-9]{1,15}$/.test(v) ? v : null;
  };
  const after = cursorOf("after");
  const before = after === null ? cursorOf("before") : null;
  if (before !== null) params.set("before", before);
  if (after !== null) params.set("after", after);
  params.set("limit", String(PAGE + 1));
  const path = `/galleries/${seg(gallery)}/audit?${params.toString()}`;
  const polled = usePoll(() => api<AuditEntry[]>("GET", path), path);
  const pageLink = (cursor?: { before: number } | { after: number }) => {
    const next = new URLSearchParams(query);
    next.set("gallery", gallery);
    next.delete("before");
    next.delete("after");
    if (cursor !== undefined && "before" in cursor) next.set("before", String(cursor.before));
    if (cursor !== undefined && "after" in cursor) next.set("after", String(cursor.after));
    return `/audit?${next.toString()}`;
  };
  return (
    <section aria-labelledby="entries-title">
      <h2 id="entries-title">Entries of {gallery}</h2>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {(entries) => {
          // One entry more than a page tells whether there are more: older ones past the end,
          // or (paging newer, `after`) newer ones before the start.
          const more = entries.length > PAGE;
          const rows = after === null ? entries.slice(0, PAGE) : entries.slice(entries.length - PAGE);
          const newer = before !== null || (after !== null && more);
          const older = after !== null || more;
          const firstId = rows[0]?.id;
          const lastId = rows[rows.length - 1]?.id;
          return (
            <>
              {rows.length === 0 ? (
                <p>No entries match.</p>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">Actor</th>
                        <th scope="col">Action</th>
                        <th scope="col">What</th>
                        <th scope="col">Details</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((e) => (
                        <tr key={e.id}>
                          <td>{date(e.at)}</td>
                          <td>{e.actor}</td>
                          <td>
                            <code>{e.action}</code>
                          </td>
                          <td>
                            <Target e={e} />
                          </td>
                          <td>
                            {(e.before !== undefined || e.after !== undefined) && (
                              <details>
                                <summary>before / after</summary>
                                <pre>{JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre>
                              </details>
                            )}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <nav aria-label="Audit pages" className="pager">
                {(before !== null || after !== null) && <Link to={pageLink()}>Newest</Link>}
                {newer && firstId !== undefined && <Link to={pageLink({ after: firstId })}>Newer</Link>}
                {older && lastId !== undefined && <Link to={pageLink({ before: lastId })}>Older</Link>}
              </nav>
            </>
          );
        }}
      </Loading>
    </section>
  );
}

function Target({ e }: { e: AuditEntry }) {
  if (e.image !== undefined && e.version !== undefined) {
    return (
      <Link to={versionPath(e.gallery, e.image, e.version)}>
        {e.image}:{e.version}
      </Link>
    );
  }
  if (e.image !== undefined) {
    return <Link to={`/galleries/${seg(e.gallery)}/images/${seg(e.image)}`}>{e.image}</Link>;
  }
  return <>{e.target ?? e.gallery}</>;
}
