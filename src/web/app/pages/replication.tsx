// Every copy of a version at its target sites (of the galleries the caller reads), filtered by
// state and gallery on the server and polled, so a running copy's progress moves; and a version's
// replication plan: per site, what copying it there would send and cost, before anything moves.
import { useState, type FormEvent } from "react";
import { api, seg } from "../api.ts";
import { navigate, useLocation } from "../router.tsx";
import { bytes, ErrorNote, Loading, Updated, usePoll, useTitle } from "../ui.tsx";
import { ReplicaRows, type Replica } from "./version-supply.tsx";

const STATES = ["pending", "copying", "completed", "failed", "removing"] as const;

interface SitePlan {
  site: string;
  kind: "strata" | "registry";
  region?: string;
  url: string;
  repository: string;
  status: "ok" | "unreachable";
  reason?: string;
  missing?: { blobs: number; manifests: number; bytes: number };
  egressCost?: number;
  storageMonthlyCost: number;
}

interface ReplicationPlan {
  gallery: string;
  image: string;
  version: string;
  digest: string;
  total: { blobs: number; manifests: number; bytes: number };
  sites: SitePlan[];
}

const money = (n: number | undefined): string => (n === undefined ? "—" : n.toFixed(2));

export default function ReplicationPage() {
  useTitle("Replication");
  const { query } = useLocation();
  const state = query.get("state") ?? "";
  const gallery = query.get("gallery") ?? "";
  const [draft, setDraft] = useState({ state, gallery });
  const params = new URLSearchParams();
  if (state !== "") params.set("state", state);
  if (gallery !== "") params.set("gallery", gallery);
  const search = params.toString();
  const polled = usePoll(
    () => api<Replica[]>("GET", `/replication${search === "" ? "" : `?${search}`}`),
    `replication:${search}`,
  );
  const [plan, setPlan] = useState<{ gallery: string; image: string; version: string }>();
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    if (draft.state !== "") next.set("state", draft.state);
    if (draft.gallery.trim() !== "") next.set("gallery", draft.gallery.trim());
    const text = next.toString();
    navigate(`/replication${text === "" ? "" : `?${text}`}`);
  };
  return (
    <>
      <h1>Replication</h1>
      <form className="filters" onSubmit={apply} aria-label="Filter copies">
        <label>
          State
          <select value={draft.state} onChange={(e) => setDraft({ ...draft, state: e.target.value })}>
            <option value="">Any state</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Gallery
          <input value={draft.gallery} onChange={(e) => setDraft({ ...draft, gallery: e.target.value })} />
        </label>
        <button type="submit">Apply</button>
      </form>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {(replicas) =>
          replicas.length === 0 ? (
            <p className="muted">No copy{state === "" ? "" : ` is ${state}`}.</p>
          ) : (
            <>
              <ReplicaRows replicas={replicas} withVersion />
              <div className="actions">
                {[...new Map(replicas.map((r) => [`${r.gallery}/${r.image}:${r.version}`, r])).values()]
                  .slice(0, 20)
                  .map((r) => (
                    <button
                      key={`${r.gallery}/${r.image}:${r.version}`}
                      type="button"
                      onClick={() => setPlan({ gallery: r.gallery, image: r.image, version: r.version })}
                    >
                      Plan {r.gallery}/{r.image}:{r.version}
                    </button>
                  ))}
              </div>
            </>
          )
        }
      </Loading>
      <PlanForm
        key={plan === undefined ? "" : `${plan.gallery}/${plan.image}:${plan.version}`}
        initial={plan}
      />
    </>
  );
}

function PlanForm({ initial }: { initial: { gallery: string; image: string; version: string } | undefined }) {
  const [form, setForm] = useState({
    gallery: initial?.gallery ?? "",
    image: initial?.image ?? "",
    version: initial?.version ?? "",
    sites: "",
  });
  const [plan, setPlan] = useState<ReplicationPlan>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const run = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const sites = form.sites.trim() === "" ? "" : `?sites=${encodeURIComponent(form.sites.trim())}`;
      setPlan(
        await api<ReplicationPlan>(
          "GET",
          `/galleries/${seg(form.gallery.trim())}/images/${seg(form.image.trim())}/versions/${seg(form.version.trim())}/replication/plan${sites}`,
        ),
      );
    } catch (err) {
      setPlan(undefined);
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  const field = (name: "gallery" | "image" | "version" | "sites", label: string) => (
    <label>
      {label}
      <input value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} />
    </label>
  );
  return (
    <section aria-labelledby="plan-title">
      <h2 id="plan-title">Plan a copy</h2>
      <p className="muted">
        What copying a version to each site would send (what the site lacks) and cost, asked of the sites now;
        nothing moves.
      </p>
      <form className="inline-form" onSubmit={(e) => void run(e)}>
        {field("gallery", "Gallery")}
        {field("image", "Image")}
        {field("version", "Version")}
        {field("sites", "Sites (optional, comma-separated)")}
        <button type="submit" className="primary" disabled={busy}>
          Plan
        </button>
      </form>
      <ErrorNote error={error} />
      {plan !== undefined && (
        <>
          <p>
            {plan.gallery}/{plan.image}:{plan.version} brings {plan.total.blobs} blobs and{" "}
            {plan.total.manifests} manifests, {bytes(plan.total.bytes)} in all (referrers included).
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">Lands in</th>
                  <th scope="col">Would send</th>
                  <th scope="col">Egress, once</th>
                  <th scope="col">Storage per month</th>
                </tr>
              </thead>
              <tbody>
                {plan.sites.map((s) => (
                  <tr key={s.site}>
                    <td>
                      {s.site}
                      {s.region !== undefined && <span className="muted"> ({s.region})</span>}
                    </td>
                    <td className="mono">{s.repository}</td>
                    <td>
                      {s.status === "unreachable"
                        ? `unreachable: ${s.reason ?? "no reason given"}`
                        : s.missing === undefined
                          ? "—"
                          : `${bytes(s.missing.bytes)} (${s.missing.blobs} blobs, ${s.missing.manifests} manifests)`}
                    </td>
                    <td>{money(s.egressCost)}</td>
                    <td>{money(s.storageMonthlyCost)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
