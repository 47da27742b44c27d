// Recorded policy decisions (what was refused or warned, where and why), newest first, from
// /api/v1/policy/decisions: the server filters by point, outcome, policy and time, and answers
// only the decisions of the galleries the caller is a member of (everything for admins).
import { useState, type FormEvent } from "react";
import { api } from "../api.ts";
import { navigate, useLocation } from "../router.tsx";
import { date, Loading, StateBadge, Updated, usePoll, useTitle } from "../ui.tsx";

interface Decision {
  id: number;
  at: string;
  point: "pull" | "run" | "admission" | "check";
  outcome: "allow" | "warn" | "deny";
  reference: string;
  repository: string;
  digest: string;
  gallery: string | null;
  user: string | null;
  failures: { policy: string; mode: string; rule: string; reason: string }[];
}

const FIELDS = ["point", "outcome", "policy", "since"] as const;
type Field = (typeof FIELDS)[number];
const LIMIT = 200;

export default function PolicyPage() {
  useTitle("Policy decisions");
  const { query } = useLocation();
  const current = Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ""])) as Record<Field, string>;
  const [draft, setDraft] = useState(current);
  const params = new URLSearchParams();
  for (const f of FIELDS) if (current[f] !== "") params.set(f, current[f]);
  const search = params.toString();
  params.set("limit", String(LIMIT));
  const polled = usePoll(
    () => api<Decision[]>("GET", `/policy/decisions?${params.toString()}`),
    `policy:${search}`,
  );
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const f of FIELDS) if (draft[f].trim() !== "") next.set(f, draft[f].trim());
    const text = next.toString();
    navigate(`/policy${text === "" ? "" : `?${text}`}`);
  };
  const select = (field: "point" | "outcome", label: string, values: string[]) => (
    <label>
      {label}
      <select value={draft[field]} onChange={(e) => setDraft({ ...draft, [field]: e.target.value })}>
        <option value="">Any</option>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <>
      <h1>Policy decisions</h1>
      <p className="muted">
        Pulls, runs, admissions and checks that a policy refused or warned about, and those allowed with an
        audit failure; of the galleries you are a member of.
      </p>
      <form className="filters" onSubmit={apply} aria-label="Filter decisions">
        {select("point", "Point", ["pull", "run", "admission", "check"])}
        {select("outcome", "Outcome", ["deny", "warn", "allow"])}
        <label>
          Policy
          <input value={draft.policy} onChange={(e) => setDraft({ ...draft, policy: e.target.value })} />
        </label>
        <label>
          Since (ISO time)
          <input
            value={draft.since}
            placeholder="2026-01-01T00:00:00Z"
            onChange={(e) => setDraft({ ...draft, since: e.target.value })}
          />
        </label>
        <button type="submit">Apply</button>
      </form>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {(decisions) =>
          decisions.length === 0 ? (
            <p className="muted">No decision is recorded{search === "" ? "" : " that matches"}.</p>
          ) : (
            <>
              {decisions.length === LIMIT && <p className="muted">The newest {LIMIT} decisions.</p>}
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">Point</th>
                      <th scope="col">Reference</th>
                      <th scope="col">Who</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody>
                    {decisions.map((d) => (
                      <tr key={d.id}>
                        <td>{date(d.at)}</td>
                        <td>
                          <StateBadge state={d.outcome} />
                        </td>
                        <td>{d.point}</td>
                        <td className="mono">
                          {d.reference}
                          {d.gallery !== null && <span className="muted"> (gallery {d.gallery})</span>}
                        </td>
                        <td>{d.user ?? "—"}</td>
                        <td>
                          <ul className="plain">
                            {d.failures.map((f, i) => (
                              <li key={i}>
                                <strong>{f.policy}</strong> ({f.mode}) {f.rule}: {f.reason}
                              </li>
                            ))}
                          </ul>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )
        }
      </Loading>
    </>
  );
}
