// An image definition: its metadata (VM properties for disks), its versions with state, EOL and
// which is latest (paged and filtered by the server, 50 rows at a time), its channels
// with their history and rollback, and promote — the actions only for roles that may take them;
// the server decides anyway.
import { useState, type FormEvent } from "react";
import {
  api,
  ApiError,
  atLeast,
  roleIn,
  seg,
  versionPath,
  type Channel,
  type Definition,
  type Gallery,
  type Move,
  type Version,
  type VersionPage,
} from "../api.ts";
import { safeHref } from "../markdown.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.ts";
import { PendingRequests } from "./pending-requests.tsx";
import {
  Confirm,
  date,
  day,
  ErrorNote,
  Loading,
  Pager,
  StateBadge,
  Updated,
  usePoll,
  useTitle,
} from "../ui.tsx";

const PAGE = 50;

export default function DefinitionPage({ gallery, image }: { gallery: string; image: string }) {
  useTitle(`${gallery}/${image}`);
  const { session } = useSession();
  const base = `/galleries/${seg(gallery)}/images/${seg(image)}`;
  const polled = usePoll(async () => {
    const [g, d, versions, channels, latest] = await Promise.all([
      api<Gallery>("GET", `/galleries/${seg(gallery)}`),
      api<Definition>("GET", base),
      // The newest 100 versions, for Promote; the table below pages on its own.
      api<VersionPage>("GET", `${base}/versions?limit=100`),
      api<Channel[]>("GET", `${base}/channels`),
      api<Version>("GET", `${base}/latest`).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) return undefined;
        throw e;
      }),
    ]);
    return { g, d, versions: versions.versions, channels, latest: latest?.version };
  }, `definition:${gallery}/${image}`);
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Galleries</Link> / <Link to={`/galleries/${seg(gallery)}`}>{gallery}</Link> /{" "}
        <span aria-current="page">{image}</span>
      </nav>
      <h1>
        {gallery}/{image}
      </h1>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {({ g, d, versions, channels, latest }) => {
          const role = roleIn(g, session);
          return (
            <>
              <Metadata d={d} />
              <Versions gallery={gallery} image={image} latest={latest} />
              <Channels
                gallery={gallery}
                image={image}
                channels={channels}
                canMove={atLeast(role, "publisher")}
                onChange={polled.reload}
              />
              {atLeast(role, "publisher") && (
                <Promote
                  gallery={gallery}
                  image={image}
                  versions={versions}
                  channels={channels}
                  onDone={polled.reload}
                />
              )}
            </>
          );
        }}
      </Loading>
    </>
  );
}

function Metadata({ d }: { d: Definition }) {
  const notes = d.releaseNotesUrl === undefined ? undefined : safeHref(d.releaseNotesUrl);
  const labels = Object.entries(d.labels ?? {});
  return (
    <section aria-labelledby="meta-title">
      <h2 id="meta-title">Definition</h2>
      {d.description !== undefined && d.description !== "" && <p className="description">{d.description}</p>}
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{d.kind}</dd>
        <dt>Repository</dt>
        <dd>
          <code>{d.repository}</code>
        </dd>
        <dt>Platform</dt>
        <dd>{[d.os, d.arch].filter(Boolean).join("/") || "—"}</dd>
        {d.publisher !== undefined && (
          <>
            <dt>Publisher</dt>
            <dd>{d.publisher}</dd>
          </>
        )}
        {d.owner !== undefined && (
          <>
            <dt>Owner</dt>
            <dd>{d.owner}</dd>
          </>
        )}
        {notes !== undefined && (
          <>
            <dt>Release notes</dt>
            <dd>
              <a href={notes} rel="noopener noreferrer nofollow" target="_blank">
                {notes}
              </a>
            </dd>
          </>
        )}
        {d.rebuildDays !== undefined && (
          <>
            <dt>Stale after</dt>
            <dd>{d.rebuildDays} days</dd>
          </>
        )}
        {d.replicateTo !== undefined && d.replicateTo.length > 0 && (
          <>
            <dt>Replicated to</dt>
            <dd>{d.replicateTo.join(", ")}</dd>
          </>
        )}
        {d.vm !== undefined && (
          <>
            <dt>VM generation</dt>
            <dd>{d.vm.generation ?? "—"}</dd>
            <dt>Firmware</dt>
            <dd>
              {d.vm.bootMode ?? "—"}
              {d.vm.secureBoot === true ? ", Secure Boot" : ""}
            </dd>
            <dt>Recommended size</dt>
            <dd>
              {d.vm.recommendedVcpus ?? "?"} vCPUs, {d.vm.recommendedMemoryMiB ?? "?"} MiB memory
            </dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          {date(d.createdAt)} by {d.createdBy}
        </dd>
      </dl>
      {labels.length > 0 && (
        <>
          <h3>Labels</h3>
          <ul className="labels">
            {labels.map(([k, v]) => (
              <li key={k}>
                <code>{k}</code>={v}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** The version number filter the server accepts: digits and dots. */
const PREFIX = /^[0-9.]{1,32}$/;

/**
 * The versions, paged by the server 50 at a time by version number (highest first): Next asks for
 * the versions after the page's last, Previous for those before its first, Newest for the first
 * page; the filters (state, number prefix) apply on the server, which counts what matches.
 */
function Versions(props: { gallery: string; image: string; latest: string | undefined }) {
  const [filter, setFilter] = useState("");
  const [state, setState] = useState("");
  const [cursor, setCursor] = useState<{ after: string } | { before: string }>();
  const prefix = filter.trim();
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (state !== "") params.set("state", state);
  if (prefix !== "" && PREFIX.test(prefix)) params.set("prefix", prefix);
  if (cursor !== undefined && "after" in cursor) params.set("after", cursor.after);
  if (cursor !== undefined && "before" in cursor) params.set("before", cursor.before);
  const path = `/galleries/${seg(props.gallery)}/images/${seg(props.image)}/versions?${params.toString()}`;
  const polled = usePoll(() => api<VersionPage>("GET", path), path);
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">
        Versions
        {polled.data !== undefined &&
          ` (${polled.data.total}${state !== "" || params.has("prefix") ? " matching" : ""})`}
      </h2>
      <p>
        Latest: <strong>{props.latest ?? "none qualifies"}</strong>
      </p>
      <div className="filters">
        <label>
          Version starts with
          <input
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
              setCursor(undefined);
            }}
            placeholder="1.4"
            inputMode="decimal"
            aria-invalid={prefix !== "" && !PREFIX.test(prefix)}
          />
        </label>
        <label>
          State
          <select
            value={state}
            onChange={(e) => {
              setState(e.target.value);
              setCursor(undefined);
            }}
          >
            <option value="">any</option>
            {["published", "deprecated", "revoked", "end-of-life"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      {prefix !== "" && !PREFIX.test(prefix) && (
        <p className="muted">Version numbers have digits and dots only.</p>
      )}
      <Loading polled={polled}>
        {(page) => {
          const first = page.versions[0];
          const last = page.versions[page.versions.length - 1];
          // Keyset pages need not start at a multiple of 50 (versions published meanwhile), so
          // Previous and Next follow the server's cursors, and the page number its offset.
          const current = page.previous === undefined ? 0 : Math.max(1, Math.floor(page.offset / PAGE));
          const pages =
            page.next === undefined ? current + 1 : Math.max(current + 2, Math.ceil(page.total / PAGE));
          return (
            <>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Version</th>
                      <th scope="col">State</th>
                      <th scope="col">EOL</th>
                      <th scope="col">Published</th>
                      <th scope="col">By</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.versions.map((v) => (
                      <tr key={v.version}>
                        <td>
                          <Link to={versionPath(props.gallery, props.image, v.version)}>{v.version}</Link>
                          {v.version === props.latest && <span className="badge latest">latest</span>}
                        </td>
                        <td>
                          <StateBadge state={v.state} />
                        </td>
                        <td>{day(v.eol)}</td>
                        <td>{date(v.createdAt)}</td>
                        <td>{v.publishedBy}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {page.versions.length === 0 && <p className="muted">No version matches.</p>}
              <Pager
                label="Version pages"
                current={current}
                pages={pages}
                count={page.total}
                noun="versions"
                onPage={(n) => {
                  if (n < current && first !== undefined) setCursor({ before: first.version });
                  else if (n > current && last !== undefined) setCursor({ after: last.version });
                }}
              />
              {page.previous !== undefined && (
                <p>
                  <button type="button" onClick={() => setCursor(undefined)}>
                    Newest versions
                  </button>
                </p>
              )}
            </>
          );
        }}
      </Loading>
    </section>
  );
}

function Channels(props: {
  gallery: string;
  image: string;
  channels: Channel[];
  canMove: boolean;
  onChange: () => void;
}) {
  const [open, setOpen] = useState<string>();
  const [rollback, setRollback] = useState<Channel>();
  const base = `/galleries/${seg(props.gallery)}/images/${seg(props.image)}/channels`;
  return (
    <section aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      {props.channels.length === 0 ? (
        <p className="muted">No channels yet: promote a version to create one.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Version</th>
                <th scope="col">Approval</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {props.channels.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td>
                    {c.version === null ? (
                      "—"
                    ) : (
                      <Link to={versionPath(props.gallery, props.image, c.version)}>{c.version}</Link>
                    )}
                  </td>
                  <td>{c.restricted ? `restricted: ${c.approvals} approval(s)` : "none"}</td>
                  <td>
                    {date(c.updatedAt)} by {c.updatedBy}
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      aria-expanded={open === c.name}
                      onClick={() => setOpen(open === c.name ? undefined : c.name)}
                    >
                      History
                    </button>
                    {props.canMove && c.seq > 1 && (
                      <button type="button" onClick={() => setRollback(c)}>
                        Roll back
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PendingRequests gallery={props.gallery} image={props.image} />
      {open !== undefined && <History path={`${base}/${seg(open)}/history`} channel={open} />}
      {rollback !== undefined && (
        <Confirm
          title={`Roll back ${rollback.name}?`}
          confirmLabel="Roll back"
          onClose={() => setRollback(undefined)}
          onConfirm={async () => {
            await api("POST", `${base}/${seg(rollback.name)}/rollback`, {});
            props.onChange();
          }}
        >
          <p>
            The channel <strong>{rollback.name}</strong> points at{" "}
            <strong>{rollback.version ?? "nothing"}</strong>. Rolling back points it at the version it pointed
            at before; pulls of{" "}
            <code>
              {props.gallery}/{props.image}:{rollback.name}
            </code>{" "}
            then get that version.
            {rollback.restricted && " The channel is restricted: the move waits for approval."}
          </p>
        </Confirm>
      )}
    </section>
  );
}

function History({ path, channel }: { path: string; channel: string }) {
  const polled = usePoll(() => api<Move[]>("GET", path), path);
  return (
    <section aria-labelledby="history-title" className="panel">
      <h3 id="history-title">History of {channel}</h3>
      <Loading polled={polled}>
        {(moves) => (
          <ol className="history">
            {moves.map((m) => (
              <li key={m.seq}>
                {date(m.at)}: {m.action} {m.previous ?? "—"} → {m.version ?? "—"} by {m.actor}
                {m.request !== undefined && ` (request ${m.request})`}
              </li>
            ))}
          </ol>
        )}
      </Loading>
    </section>
  );
}

function Promote(props: {
  gallery: string;
  image: string;
  versions: Version[];
  channels: Channel[];
  onDone: () => void;
}) {
  const candidates = props.versions.filter((v) => v.state === "published" || v.state === "deprecated");
  const [version, setVersion] = useState("");
  const [channel, setChannel] = useState("");
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<Error>();
  const chosen = version || candidates[0]?.version || "";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    try {
      const outcome = await api<{ status: string; request?: { id: string; required: number } }>(
        "POST",
        "/promotions",
        { gallery: props.gallery, image: props.image, version: chosen, channel: channel.trim() },
      );
      setResult(
        outcome.status === "pending"
          ? `Approval requested: ${chosen} goes to ${channel} once an approver approves it (see Approvals).`
          : `${channel} now points at ${chosen}.`,
      );
      props.onDone();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <section aria-labelledby="promote-title">
      <h2 id="promote-title">Promote</h2>
      <form onSubmit={(e) => void submit(e)} className="inline-form">
        <label>
          Version
          <select value={chosen} onChange={(e) => setVersion(e.target.value)}>
            {candidates.slice(0, 500).map((v) => (
              <option key={v.version}>{v.version}</option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <input
            list="channel-names"
            required
            value={channel}
            onChange={(e) => setChannel(e.target.value)}
            placeholder="production"
          />
          <datalist id="channel-names">
            {props.channels.map((c) => (
              <option key={c.name} value={c.name} />
            ))}
          </datalist>
        </label>
        <button type="submit" className="primary" disabled={chosen === ""}>
          Promote
        </button>
      </form>
      {result !== undefined && (
        <p className="ok" role="status">
          {result}
        </p>
      )}
      <ErrorNote error={error} />
    </section>
  );
}
