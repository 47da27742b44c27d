// The approvals inbox: requests to move a restricted channel or copy a version into a gallery,
// pending first. An approver of the target gallery approves or rejects with a comment; a
// requester sees their own request as not approvable (the two-person rule) and may withdraw it.
import { useState } from "react";
import { api, atLeast, roleIn, versionPath, type ApprovalRequest, type Gallery } from "../api.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.ts";
import { date, ErrorNote, Loading, StateBadge, Updated, usePoll, useTitle } from "../ui.tsx";

export default function ApprovalsPage() {
  useTitle("Approvals");
  const { session } = useSession();
  const [all, setAll] = useState(false);
  const polled = usePoll(async () => {
    const [requests, galleries] = await Promise.all([
      api<ApprovalRequest[]>("GET", `/requests${all ? "" : "?state=pending"}`),
      api<Gallery[]>("GET", "/galleries"),
    ]);
    return { requests, galleries: new Map(galleries.map((g) => [g.name, g])) };
  }, `requests:${all}`);
  return (
    <>
      <h1>Approvals</h1>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} />
        Show decided requests too
      </label>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {({ requests, galleries }) =>
          requests.length === 0 ? (
            <p>{all ? "No requests." : "Nothing waits for approval."}</p>
          ) : (
            <ul className="cards">
              {requests.map((r) => (
                <RequestCard
                  key={r.id}
                  request={r}
                  mine={session.user !== null && r.requestedBy === session.user}
                  canDecide={atLeast(roleIn(galleries.get(r.target.gallery), session), "approver")}
                  onChange={polled.reload}
                />
              ))}
            </ul>
          )
        }
      </Loading>
    </>
  );
}

function RequestCard(props: {
  request: ApprovalRequest;
  mine: boolean;
  canDecide: boolean;
  onChange: () => void;
}) {
  const r = props.request;
  const [comment, setComment] = useState("");
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const decide = async (decision: "approve" | "reject") => {
    setBusy(true);
    setError(undefined);
    try {
      await api("POST", `/requests/${encodeURIComponent(r.id)}/${decision}`, {
        ...(comment.trim() === "" ? {} : { comment: comment.trim() }),
      });
      setComment("");
      props.onChange();
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setBusy(false);
    }
  };
  const what =
    r.kind === "channel"
      ? `Point ${r.target.gallery}/${r.target.image} channel ${r.target.channel ?? ""} at ${r.version}`
      : `Copy ${r.gallery}/${r.image}:${r.version} into ${r.target.gallery}`;
  const commentId = `comment-${r.id}`;
  return (
    <li className="card" aria-labelledby={`title-${r.id}`}>
      <h2 id={`title-${r.id}`}>{what}</h2>
      <p>
        <StateBadge state={r.state} /> Requested by <strong>{r.requestedBy}</strong> {date(r.requestedAt)} ·{" "}
        {r.approvals.length} of {r.required} approval(s) ·{" "}
        <Link to={versionPath(r.gallery, r.image, r.version)}>
          {r.gallery}/{r.image}:{r.version}
        </Link>
      </p>
      {r.approvals.length > 0 && (
        <ul>
          {r.approvals.map((a) => (
            <li key={a.user}>
              Approved by {a.user} {date(a.at)}
              {a.comment !== undefined && `: ${a.comment}`}
            </li>
          ))}
        </ul>
      )}
      {r.state !== "pending" && r.decidedBy !== undefined && (
        <p>
          Decided by {r.decidedBy} {date(r.decidedAt)}
          {r.reason !== undefined && `: ${r.reason}`}
        </p>
      )}
      {r.state === "pending" && props.mine && (
        <p className="note" data-testid="own-request">
          This is your request: another approver must approve it (two-person rule).
        </p>
      )}
      {r.state === "pending" && (props.canDecide || props.mine) && (
        <div className="stack">
          <label htmlFor={commentId}>Comment (optional)</label>
          <textarea
            id={commentId}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            maxLength={1000}
            rows={2}
          />
          <div className="actions">
            {props.canDecide && !props.mine && (
              <button
                type="button"
                className="primary"
                disabled={busy}
                onClick={() => void decide("approve")}
              >
                Approve
              </button>
            )}
            {props.canDecide && !props.mine && (
              <button type="button" className="danger" disabled={busy} onClick={() => void decide("reject")}>
                Reject
              </button>
            )}
            {props.mine && (
              <button type="button" disabled={busy} onClick={() => void decide("reject")}>
                Withdraw
              </button>
            )}
          </div>
        </div>
      )}
      <ErrorNote error={error} />
    </li>
  );
}
