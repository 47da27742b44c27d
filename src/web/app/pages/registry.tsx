// The registry's repositories (/v2/_catalog, those the caller may pull) and a repository's tags
// (/v2/<name>/tags/list) with the digest each names (HEAD of the tag's manifest), for content
// outside the galleries. A user with the delete action on the repository (GET
// /api/v1/session/access says) gets a delete per tag, behind a confirmation; the registry takes
// that DELETE with the session cookie and its CSRF token, and refuses every other cookie write.
import { useMemo, useState } from "react";
import { api, type Gallery } from "../api.ts";
import { deleteManifest, v2 } from "../registry.ts";
import { Link, useLocation } from "../router.tsx";
import { useSession } from "../session.ts";
import { Confirm, ErrorNote, Loading, Pager, shortDigest, Updated, usePoll, useTitle } from "../ui.tsx";

const PAGE = 100;
/** Tags whose digests are read at once (HEAD each): the first page's. */
const DIGESTS = 50;

const OCI_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Path segments of a repository name, each encoded (the slashes stay). */
const repoPath = (name: string): string => name.split("/").map(encodeURIComponent).join("/");

export default function RegistryPage() {
  const { query } = useLocation();
  const repository = query.get("repository");
  useTitle(repository === null ? "Registry" : repository);
  return repository === null ? <Repositories /> : <Tags repository={repository} />;
}

function Repositories() {
  const [filter, setFilter] = useState("");
  const [page, setPage] = useState(0);
  const polled = usePoll(async () => {
    const [catalog, galleries] = await Promise.all([
      v2("GET", "_catalog?n=10000", "application/json").then(
        async (res) => ((await res.json()) as { repositories?: string[] }).repositories ?? [],
      ),
      api<Gallery[]>("GET", "/galleries").catch(() => [] as Gallery[]),
    ]);
    return { catalog, galleries: new Set(galleries.map((g) => g.name)) };
  }, "registry:catalog");
  return (
    <>
      <h1>Registry</h1>
      <p className="muted">
        Repositories you may pull, galleries' included (those are marked). Where you may delete, a
        repository's page deletes its tags; pushing takes a registry client.
      </p>
      <div className="filters">
        <label>
          Repository contains
          <input
            type="search"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value);
              setPage(0);
            }}
          />
        </label>
      </div>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {({ catalog, galleries }) => {
          const needle = filter.trim().toLowerCase();
          const shown = needle === "" ? catalog : catalog.filter((r) => r.toLowerCase().includes(needle));
          const pages = Math.max(1, Math.ceil(shown.length / PAGE));
          const current = Math.min(page, pages - 1);
          return (
            <>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Repository</th>
                      <th scope="col">In a gallery</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.slice(current * PAGE, (current + 1) * PAGE).map((r) => (
                      <tr key={r}>
                        <td>
                          <Link to={`/registry?repository=${encodeURIComponent(r)}`}>{r}</Link>
                        </td>
                        <td>{galleries.has(r.split("/")[0] ?? "") ? "yes" : "no"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager
                label="Repository pages"
                current={current}
                pages={pages}
                count={shown.length}
                noun="repositories"
                onPage={setPage}
              />
            </>
          );
        }}
      </Loading>
    </>
  );
}

function Tags({ repository }: { repository: string }) {
  const { session } = useSession();
  const [page, setPage] = useState(0);
  const [deleting, setDeleting] = useState<string>();
  const [outcome, setOutcome] = useState<string>();
  // A delete is offered to a signed-in user who may delete here (and to everyone when
  // authentication is off); the registry takes no cookie-less change from an anonymous console.
  const access = usePoll(
    async () =>
      session.authentication && session.user === null
        ? []
        : (
            await api<{ actions: string[] }>(
              "GET",
              `/session/access?repository=${encodeURIComponent(repository)}`,
            )
          ).actions,
    `registry:access:${repository}:${session.user ?? ""}`,
  );
  const canDelete = access.data?.includes("delete") === true;
  const polled = usePoll(async () => {
    const res = await v2("GET", `${repoPath(repository)}/tags/list`, "application/json");
    return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
  }, `registry:tags:${repository}`);
  const tags = polled.data;
  const pages = Math.max(1, Math.ceil((tags?.length ?? 0) / PAGE));
  const current = Math.min(page, pages - 1);
  const visible = useMemo(() => (tags ?? []).slice(current * PAGE, (current + 1) * PAGE), [tags, current]);
  const digests = usePoll(
    async () => {
      const out = new Map<string, string>();
      await Promise.all(
        visible.slice(0, DIGESTS).map(async (tag) => {
          try {
            const res = await v2(
              "HEAD",
              `${repoPath(repository)}/manifests/${encodeURIComponent(tag)}`,
              OCI_ACCEPT,
            );
            out.set(tag, res.headers.get("docker-content-digest") ?? "—");
          } catch (e) {
            out.set(tag, e instanceof Error ? e.message : String(e));
          }
        }),
      );
      return out;
    },
    `registry:digests:${repository}:${visible.join(",")}`,
  );
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/registry">Registry</Link> / <span aria-current="page">{repository}</span>
      </nav>
      <h1>{repository}</h1>
      <Updated at={polled.updatedAt} />
      <ErrorNote error={access.error} />
      {access.data !== undefined && session.user !== null && (
        <p className="muted">
          Your access here: {access.data.join(", ") || "none"}
          {canDelete ? "." : "; deleting a tag takes the delete action."}
        </p>
      )}
      {outcome !== undefined && (
        <p className="ok" role="status">
          {outcome}
        </p>
      )}
      {deleting !== undefined && (
        <Confirm
          title={`Delete tag ${repository}:${deleting}?`}
          confirmLabel="Delete tag"
          danger
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await deleteManifest(repoPath(repository), deleting, session.csrfToken);
            setOutcome(`Tag ${repository}:${deleting} is deleted.`);
            polled.reload();
          }}
        >
          <p>
            The tag <code>{deleting}</code> is removed from <code>{repository}</code>: pulls of{" "}
            <code>
              {repository}:{deleting}
            </code>{" "}
            fail from now on. The manifest it names (
            <code className="digest">{shortDigest(digests.data?.get(deleting) ?? "…")}</code>) stays in the
            repository, pullable by its digest and through any other tag that names it; deleting it takes its
            digest. A tag of a gallery version is refused: delete the version through the gallery.
          </p>
        </Confirm>
      )}
      <Loading polled={polled}>
        {(all) =>
          all.length === 0 ? (
            <p className="muted">This repository has no tags.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Tag</th>
                      <th scope="col">Digest</th>
                      {canDelete && <th scope="col">Actions</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {visible.map((tag) => (
                      <tr key={tag}>
                        <td>{tag}</td>
                        <td>
                          <code className="digest">{shortDigest(digests.data?.get(tag) ?? "…")}</code>
                        </td>
                        {canDelete && (
                          <td>
                            <button
                              type="button"
                              className="danger"
                              aria-label={`Delete tag ${tag}`}
                              onClick={() => {
                                setOutcome(undefined);
                                setDeleting(tag);
                              }}
                            >
                              Delete
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager
                label="Tag pages"
                current={current}
                pages={pages}
                count={all.length}
                noun="tags"
                onPage={setPage}
              />
            </>
          )
        }
      </Loading>
    </>
  );
}
