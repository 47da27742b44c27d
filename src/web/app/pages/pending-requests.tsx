// Promotions and copies waiting for approval, on the pages of what they would change: a
// definition's channels (requests to move one of its channels) and a version (requests naming
// it). Each shows who asked, when, for which channel or gallery, the approvals collected of the
// number needed, and a link to the approvals inbox; it changes when someone approves, and goes
// away when the request is applied or rejected, without a reload (the event stream).
import { api, seg, type ApprovalRequest } from "../api.ts";
import { Link } from "../router.tsx";
import { date, ErrorNote, usePoll } from "../ui.tsx";

export function PendingRequests(props: { gallery: string; image: string; version?: string }) {
  const { gallery, image, version } = props;
  // A channel's requests are kept by the channel's gallery; a version's copies into other
  // galleries by those, so the version's page reads every pending request the caller may see.
  const polled = usePoll(
    () =>
      api<ApprovalRequest[]>(
        "GET",
        version === undefined ? `/requests?gallery=${seg(gallery)}&state=pending` : "/requests?state=pending",
      ),
    version === undefined ? `pending:${gallery}` : "pending",
    version === undefined
      ? { gallery, kinds: ["request.", "channel."] }
      : { kinds: ["request.", "channel."] },
  );
  const pending = (polled.data ?? []).filter((r) =>
    version === undefined
      ? r.kind === "channel" && r.target.gallery === gallery && r.target.image === image
      : r.gallery === gallery && r.image === image && r.version === version,
  );
  if (pending.length === 0) return <ErrorNote error={polled.error} />;
  const Heading = version === undefined ? "h3" : "h2";
  return (
    <section aria-labelledby="pending-title" className="pending">
      <Heading id="pending-title">Waiting for approval</Heading>
      <ErrorNote error={polled.error} />
      <ul>
        {pending.map((r) => (
          <li key={r.id} data-request={r.id}>
            {r.kind === "channel" ? (
              <>
                <strong>{r.version}</strong> to channel <strong>{r.target.channel ?? ""}</strong>
              </>
            ) : (
              <>
                Copy of <strong>{r.version}</strong> into gallery <strong>{r.target.gallery}</strong>
              </>
            )}{" "}
            · asked by {r.requestedBy} on {date(r.requestedAt)} ·{" "}
            <span className="approvals-count">
              {r.approvals.length} of {r.required} approval{r.required === 1 ? "" : "s"}
            </span>
            {r.approvals.length > 0 && ` (${r.approvals.map((a) => a.user).join(", ")})`} ·{" "}
            <Link to="/approvals">Open in Approvals</Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
