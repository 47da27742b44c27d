// The registry's repositories (/v2/_catalog, those the caller may pull) and a repository's tags
// (/v2/<name>/tags/list) with the digest each names (HEAD of the tag's manifest), for content
// outside the galleries. Read-only: the session cookie is accepted under /v2 for reads only, so
// deleting a manifest takes credentials (`strata` or any registry client), and no delete is shown.
import { useMemo, useState } from "react";
import { api, type Gallery } from "../api.ts";
import { v2 } from "../registry.ts";
import { Link, useLocation } from "../router.tsx";
import { Loading, Pager, shortDigest, Updated, usePoll, useTitle } from "../ui.tsx";

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
        Repositories you may pull, galleries' included (those are marked). The console only reads here:
        deleting a manifest takes credentials, e.g. <code>strata</code> or another registry client.
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
  const [page, setPage] = useState(0);
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
                    </tr>
                  </thead>
                  <tbody>
                    {visible.map((tag) => (
                      <tr key={tag}>
                        <td>{tag}</td>
                        <td>
                          <code className="digest">{shortDigest(digests.data?.get(tag) ?? "…")}</code>
                        </td>
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
