// A version: its digest and how to pull it (registry references; `strata vm run` for VM
// disks), its changelog rendered from Markdown as text, the changes computed against the previous
// version, its lifecycle (deprecation, revocation, deletion) and the lifecycle actions the
// caller's role allows, each behind a confirmation that says what will happen; then its copies at
// other sites, its pulls, and its provenance, SBOM and signatures (version-supply.tsx).
import { useState, type ReactNode } from "react";
import {
  api,
  ApiError,
  atLeast,
  roleIn,
  seg,
  versionPath,
  type Definition,
  type Gallery,
  type Role,
  type VersionDetail,
} from "../api.ts";
import { Markdown } from "../markdown-view.tsx";
import { Link } from "../router.tsx";
import { PendingRequests } from "./pending-requests.tsx";
import { Pulls, Replication, SupplyChain } from "./version-supply.tsx";
import { useSession } from "../session.ts";
import { bytes, Confirm, date, day, Loading, StateBadge, Updated, usePoll, useTitle } from "../ui.tsx";

type Action = "deprecate" | "revoke" | "delete" | "restore";

export default function VersionPage(props: { gallery: string; image: string; version: string }) {
  const { gallery, image, version } = props;
  useTitle(`${gallery}/${image}:${version}`);
  const { session } = useSession();
  const path = versionPath(gallery, image, version);
  const polled = usePoll(
    async () => {
      const [g, d, v, changes] = await Promise.all([
        api<Gallery>("GET", `/galleries/${seg(gallery)}`),
        api<Definition>("GET", `/galleries/${seg(gallery)}/images/${seg(image)}`),
        api<VersionDetail>("GET", path),
        api<Diff>("GET", `${path}/changes`).catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return undefined;
          throw e;
        }),
      ]);
      return { g, d, v, changes };
    },
    `version:${path}`,
    { gallery, image, version },
  );
  return (
    <>
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Galleries</Link> / <Link to={`/galleries/${seg(gallery)}`}>{gallery}</Link> /{" "}
        <Link to={`/galleries/${seg(gallery)}/images/${seg(image)}`}>{image}</Link> /{" "}
        <span aria-current="page">{version}</span>
      </nav>
      <h1>
        {gallery}/{image}:{version}
      </h1>
      <Updated at={polled.updatedAt} />
      <Loading polled={polled}>
        {({ g, d, v, changes }) => (
          <>
            <Summary v={v} kind={d.kind} />
            <Lifecycle v={v} role={roleIn(g, session)} onChange={polled.reload} />
            <PendingRequests gallery={gallery} image={image} version={version} />
            <section aria-labelledby="changelog-title">
              <h2 id="changelog-title">Changelog</h2>
              {v.changelog === undefined || v.changelog.trim() === "" ? (
                <p className="muted">The publisher wrote no changelog.</p>
              ) : (
                <Markdown source={v.changelog} />
              )}
            </section>
            <Changes v={v} diff={changes} />
            <Replication v={v} />
            <Pulls v={v} />
            <SupplyChain v={v} />
          </>
        )}
      </Loading>
    </>
  );
}

function Summary({ v, kind }: { v: VersionDetail; kind: Definition["kind"] }) {
  const host = location.host;
  const repo = `${v.gallery}/${v.image}`;
  return (
    <section aria-labelledby="summary-title">
      <h2 id="summary-title">Version</h2>
      <dl className="facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={v.state} />
        </dd>
        <dt>Digest</dt>
        <dd>
          <code className="digest">{v.digest}</code>
        </dd>
        <dt>Published</dt>
        <dd>
          {date(v.createdAt)} by {v.publishedBy}
        </dd>
        <dt>End of life</dt>
        <dd>{day(v.eol)}</dd>
        <dt>Excluded from latest</dt>
        <dd>{v.excludeFromLatest ? "yes" : "no"}</dd>
        {v.buildId !== undefined && (
          <>
            <dt>Build</dt>
            <dd>{v.buildId}</dd>
          </>
        )}
        {v.sourceRevision !== undefined && (
          <>
            <dt>Source revision</dt>
            <dd>
              <code>{v.sourceRevision}</code>
            </dd>
          </>
        )}
        {v.baseDigest !== undefined && (
          <>
            <dt>Built on</dt>
            <dd>
              <code className="digest">{v.baseDigest}</code>
            </dd>
          </>
        )}
        <dt>Size</dt>
        <dd>
          {bytes(v.bytes.total)} ({bytes(v.bytes.own)} its own, {bytes(v.bytes.shared)} shared)
        </dd>
      </dl>
      <h3>Pull it</h3>
      <pre>
        <code>
          {`${host}/${repo}:${v.version}\n${host}/${repo}@${v.digest}`}
          {kind === "vm"
            ? `\n\nstrata vm run ${repo}:${v.version} -d --memory 1024 --cpus 2\nstrata disk pull ${repo}:${v.version} --format qcow2 -o ${v.image}.qcow2`
            : `\n\npodman pull ${host}/${repo}:${v.version}\nstrata run ${host}/${repo}:${v.version}`}
        </code>
      </pre>
    </section>
  );
}

function Lifecycle({
  v,
  role,
  onChange,
}: {
  v: VersionDetail;
  role: Role | undefined;
  onChange: () => void;
}) {
  const [action, setAction] = useState<Action>();
  const [reason, setReason] = useState("");
  const [replacement, setReplacement] = useState("");
  const [cascade, setCascade] = useState(false);
  const [outcome, setOutcome] = useState<string>();
  const path = versionPath(v.gallery, v.image, v.version);
  const ref = `${v.gallery}/${v.image}:${v.version}`;
  const publisher = atLeast(role, "publisher");
  const admin = atLeast(role, "admin");
  const pastEol = v.eol !== undefined && Date.parse(v.eol) <= Date.now();
  const live = v.state !== "deleted";
  const available: { action: Action; label: string }[] = [];
  if (publisher && (v.state === "published" || v.state === "end-of-life"))
    available.push({ action: "deprecate", label: "Deprecate…" });
  if (publisher && live && v.state !== "revoked") available.push({ action: "revoke", label: "Revoke…" });
  if (live && (admin || (publisher && pastEol))) available.push({ action: "delete", label: "Delete…" });
  if (publisher && !live) available.push({ action: "restore", label: "Restore…" });

  const run = async () => {
    switch (action) {
      case "deprecate":
        await api("POST", `${path}/deprecate`, {
          ...(reason.trim() === "" ? {} : { reason: reason.trim() }),
          ...(replacement.trim() === "" ? {} : { replacement: replacement.trim() }),
        });
        setOutcome(`${ref} is deprecated.`);
        break;
      case "revoke": {
        const result = await api<{ revoked: { version: string; image: string }[]; skipped: unknown[] }>(
          "POST",
          `${path}/revoke`,
          { reason: reason.trim(), cascade },
        );
        setOutcome(
          `Revoked ${result.revoked.map((r) => `${r.image}:${r.version}`).join(", ") || "nothing"}` +
            (result.skipped.length > 0
              ? `; ${result.skipped.length} version(s) built on it were skipped`
              : ""),
        );
        break;
      }
      case "delete":
        await api("DELETE", `${path}${pastEol ? "" : "?force=true"}`);
        setOutcome(`${ref} is deleted.`);
        break;
      case "restore":
        await api("POST", `${path}/restore`, {});
        setOutcome(`${ref} is restored.`);
        break;
      case undefined:
        return;
    }
    onChange();
  };

  const explain: Record<Action, ReactNode> = {
    deprecate: (
      <>
        <p>
          Pulls of <code>{ref}</code> keep working but carry a warning
          {replacement.trim() === "" ? "" : ` naming ${replacement.trim()} as the replacement`}; it stops
          being the latest version.
        </p>
        <label>
          Reason (optional)
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} />
        </label>
        <label>
          Replacement version (optional)
          <input value={replacement} onChange={(e) => setReplacement(e.target.value)} maxLength={32} />
        </label>
      </>
    ),
    revoke: (
      <>
        <p>
          Pulls of <code>{ref}</code> are refused from now on (warned only if the gallery's mode is warn), at
          pull, at run and at admission.
        </p>
        <label>
          Reason (required)
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} required />
        </label>
        <label className="check">
          <input type="checkbox" checked={cascade} onChange={(e) => setCascade(e.target.checked)} />
          Also revoke the versions built on it
        </label>
      </>
    ),
    delete: (
      <p>
        <code>{ref}</code> disappears from lists and pulls, and its content becomes collectable once the
        gallery's restore window has passed; until then it can be restored.
        {!pastEol && " It is not past its end of life: as an admin you delete it anyway (force)."}
      </p>
    ),
    restore: (
      <p>
        <code>{ref}</code> comes back in the state it had before it was deleted
        {v.deletion !== undefined ? ` (restorable until ${date(v.deletion.restorableUntil)})` : ""}.
      </p>
    ),
  };

  return (
    <section aria-labelledby="lifecycle-title">
      <h2 id="lifecycle-title">Lifecycle</h2>
      {v.deprecation !== undefined && (
        <p>
          Deprecated {date(v.deprecation.at)}: {v.deprecation.reason || "no reason given"}
          {v.deprecation.replacement !== undefined && (
            <>
              {" "}
              — use{" "}
              <Link to={versionPath(v.gallery, v.image, v.deprecation.replacement)}>
                {v.deprecation.replacement}
              </Link>
            </>
          )}
        </p>
      )}
      {v.revocation !== undefined && (
        <p>
          Revoked {date(v.revocation.at)} by {v.revocation.by}: {v.revocation.reason}
        </p>
      )}
      {v.deletion !== undefined && (
        <p>
          Deleted {date(v.deletion.at)} by {v.deletion.by}; restorable until{" "}
          {date(v.deletion.restorableUntil)}
        </p>
      )}
      {available.length === 0 ? (
        <p className="muted">Your role in this gallery allows no lifecycle action on this version.</p>
      ) : (
        <div className="actions">
          {available.map((a) => (
            <button
              key={a.action}
              type="button"
              className={a.action === "revoke" || a.action === "delete" ? "danger" : ""}
              onClick={() => {
                setReason("");
                setReplacement("");
                setCascade(false);
                setOutcome(undefined);
                setAction(a.action);
              }}
            >
              {a.label}
            </button>
          ))}
        </div>
      )}
      {outcome !== undefined && (
        <p className="ok" role="status">
          {outcome}
        </p>
      )}
      {action !== undefined && (
        <Confirm
          title={`${action[0]?.toUpperCase()}${action.slice(1)} ${ref}?`}
          confirmLabel={`${action[0]?.toUpperCase()}${action.slice(1)}`}
          danger={action === "revoke" || action === "delete"}
          onClose={() => setAction(undefined)}
          onConfirm={async () => {
            if (action === "revoke" && reason.trim() === "") throw new Error("A revocation needs a reason");
            await run();
          }}
        >
          {explain[action]}
        </Confirm>
      )}
    </section>
  );
}

interface PackageRef {
  name: string;
  version?: string;
  type?: string;
  from?: { version: string };
  to?: { version: string };
}
interface Diff {
  packages?: {
    available: boolean;
    note?: string;
    added?: PackageRef[];
    removed?: PackageRef[];
    upgraded?: PackageRef[];
    downgraded?: PackageRef[];
    unchanged?: number;
  };
  files?: {
    added?: { path: string }[];
    removed?: { path: string }[];
    changed?: { path: string; changes: string[] }[];
  };
  config?: { unchanged?: boolean } & Record<string, unknown>;
}

const LIST_MAX = 200;

function Changes({ v, diff }: { v: VersionDetail; diff: Diff | undefined }) {
  const against = v.changes?.against;
  return (
    <section aria-labelledby="changes-title">
      <h2 id="changes-title">
        Changes{" "}
        {against?.version !== undefined && (
          <>
            since <Link to={versionPath(v.gallery, v.image, against.version)}>{against.version}</Link>
          </>
        )}
      </h2>
      {diff === undefined ? (
        <p className="muted">
          No changes were computed for this version (the first version, or not computed yet).
        </p>
      ) : (
        <>
          {v.changes !== undefined && (
            <p>
              {v.changes.packages !== undefined &&
                `Packages: ${v.changes.packages.added} added, ${v.changes.packages.removed} removed, ${v.changes.packages.upgraded} upgraded, ${v.changes.packages.downgraded} downgraded. `}
              {v.changes.files !== undefined &&
                `Files: ${v.changes.files.added} added, ${v.changes.files.removed} removed, ${v.changes.files.changed} changed. `}
              {v.changes.config !== undefined &&
                (v.changes.config.length === 0
                  ? "Config unchanged."
                  : `Config: ${v.changes.config.join(", ")} changed.`)}
            </p>
          )}
          {diff.packages?.available === false && <p className="muted">{diff.packages.note}</p>}
          <ChangeList
            title="Packages added"
            items={diff.packages?.added?.map((p) => `${p.name} ${p.version ?? ""}`)}
          />
          <ChangeList
            title="Packages removed"
            items={diff.packages?.removed?.map((p) => `${p.name} ${p.version ?? ""}`)}
          />
          <ChangeList
            title="Packages upgraded"
            items={diff.packages?.upgraded?.map(
              (p) => `${p.name} ${p.from?.version ?? ""} → ${p.to?.version ?? ""}`,
            )}
          />
          <ChangeList
            title="Packages downgraded"
            items={diff.packages?.downgraded?.map(
              (p) => `${p.name} ${p.from?.version ?? ""} → ${p.to?.version ?? ""}`,
            )}
          />
          <ChangeList title="Files added" items={diff.files?.added?.map((f) => f.path)} />
          <ChangeList title="Files removed" items={diff.files?.removed?.map((f) => f.path)} />
          <ChangeList
            title="Files changed"
            items={diff.files?.changed?.map((f) => `${f.path} (${f.changes.join(", ")})`)}
          />
        </>
      )}
    </section>
  );
}

function ChangeList({ title, items }: { title: string; items: string[] | undefined }) {
  if (items === undefined || items.length === 0) return null;
  return (
    <details>
      <summary>
        {title} ({items.length})
      </summary>
      <ul className="mono">
        {items.slice(0, LIST_MAX).map((item, i) => (
          <li key={i}>{item}</li>
        ))}
        {items.length > LIST_MAX && <li className="muted">… and {items.length - LIST_MAX} more</li>}
      </ul>
    </details>
  );
}
