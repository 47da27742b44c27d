// The galleries the caller is a member of (all of them when authentication is off, or for an
// anonymous caller where the server grants anonymous reads), with the caller's role in each.
import { api, roleIn, type Gallery } from "../api.ts";
import { Link } from "../router.tsx";
import { isAnonymousReader, useSession } from "../session.ts";
import { Loading, Updated, usePoll, useTitle } from "../ui.tsx";

export function GalleriesPage() {
  useTitle("Galleries");
  const { session } = useSession();
  const anonymous = isAnonymousReader(session);
  const polled = usePoll(() => api<Gallery[]>("GET", "/galleries"), "galleries");
  return (
    <>
      <h1>Galleries</h1>
      {anonymous && (
        <p className="muted">
          You are not signed in: this server lets anyone read its galleries, and changes nothing for them.{" "}
          <Link to="/sign-in?next=/">Sign in</Link> to act on yours.
        </p>
      )}
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {(galleries) =>
          galleries.length === 0 ? (
            <p>
              {session.user === null && session.authentication ? (
                <>
                  No gallery is open to anonymous callers. <Link to="/sign-in?next=/">Sign in</Link> to see
                  yours.
                </>
              ) : (
                "You are not a member of any gallery yet. An admin adds members with `strata gallery member`."
              )}
            </p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Galleries</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Description</th>
                    <th scope="col">Mode</th>
                    <th scope="col">Your role</th>
                    <th scope="col">Members</th>
                  </tr>
                </thead>
                <tbody>
                  {galleries.map((g) => (
                    <tr key={g.name}>
                      <td>
                        <Link to={`/galleries/${encodeURIComponent(g.name)}`}>{g.name}</Link>
                      </td>
                      <td>{g.description}</td>
                      <td>{g.mode}</td>
                      <td>{roleIn(g, session) ?? "—"}</td>
                      <td>{roleIn(g, session) === undefined ? "—" : Object.keys(g.members).length}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loading>
    </>
  );
}
