// A gallery: its settings (enforcement mode, copy approvals, restore window), its members with
// their roles, and its image definitions.
import { api, roleIn, seg, type Definition, type Gallery } from "../api.ts";
import { Link } from "../router.tsx";
import { isAnonymousReader, useSession } from "../session.ts";
import { Loading, Updated, usePoll, useTitle, date } from "../ui.tsx";

export function GalleryPage({ gallery }: { gallery: string }) {
  useTitle(gallery);
  const { session } = useSession();
  const anonymous = isAnonymousReader(session);
  const polled = usePoll(async () => {
    const [g, images] = await Promise.all([
      api<Gallery>("GET", `/galleries/${seg(gallery)}`),
      api<Definition[]>("GET", `/galleries/${seg(gallery)}/images`),
    ]);
    return { g, images };
  }, `gallery:${gallery}`);
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Galleries</Link> / <span aria-current="page">{gallery}</span>
      </nav>
      <h1>{gallery}</h1>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {({ g, images }) => (
          <>
            {g.description !== "" && <p>{g.description}</p>}
            <dl className="facts">
              <dt>Enforcement mode</dt>
              <dd>{g.mode}</dd>
              <dt>Approvals for copies in</dt>
              <dd>{g.approvals}</dd>
              <dt>Restore window</dt>
              <dd>{g.restoreDays} days</dd>
              <dt>Your role</dt>
              <dd>{roleIn(g, session) ?? "none (anonymous read)"}</dd>
              <dt>Created</dt>
              <dd>
                {date(g.createdAt)} by {g.createdBy}
              </dd>
            </dl>
            {!anonymous && (
              <p>
                <Link to={`/audit?gallery=${encodeURIComponent(gallery)}`}>Audit log of this gallery</Link>
              </p>
            )}
            <h2>Image definitions</h2>
            {images.length === 0 ? (
              <p className="muted">No definitions yet.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Platform</th>
                      <th scope="col">Description</th>
                    </tr>
                  </thead>
                  <tbody>
                    {images.map((d) => (
                      <tr key={d.name}>
                        <td>
                          <Link to={`/galleries/${seg(gallery)}/images/${seg(d.name)}`}>{d.name}</Link>
                        </td>
                        <td>{d.kind}</td>
                        <td>{[d.os, d.arch].filter(Boolean).join("/") || "—"}</td>
                        <td>{d.description ?? ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <h2>Members</h2>
            {anonymous || roleIn(g, session) === undefined ? (
              <p className="muted">Members are shown to the gallery's members only.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">Role</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(g.members)
                      .sort(([a], [b]) => a.localeCompare(b))
                      .map(([user, role]) => (
                        <tr key={user}>
                          <td>{user}</td>
                          <td>{role}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Loading>
    </>
  );
}
