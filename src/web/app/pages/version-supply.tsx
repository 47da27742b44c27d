// The version page's further sections: its copies at other sites (polled, so progress moves while
// a copy runs), its pulls from the usage report, and what is attached to it in the registry —
// provenance, the SBOM's packages (searchable, a page at a time) and signatures, each verified by
// the server against the gallery's trusted keys. Every name read from an attached document is a
// text child.
import { useMemo, useState } from "react";
import { api, ApiError, seg, versionPath, type VersionDetail } from "../api.ts";
import { Link } from "../router.tsx";
import { supplyChain, type Sbom, type Signature } from "../registry.ts";
import { isAnonymousReader, useSession } from "../session.ts";
import { bytes, date, ErrorNote, Pager, shortDigest, StateBadge, useLoad, usePoll } from "../ui.tsx";

export interface Replica {
  gallery: string;
  image: string;
  version: string;
  site: string;
  region?: string;
  digest: string;
  state: "pending" | "copying" | "completed" | "failed" | "removing";
  bytesDone: number;
  bytesTotal: number;
  attempts: number;
  error?: string;
  nextAttemptAt?: string;
  updatedAt: string;
  completedAt?: string;
}

export interface VersionUsage {
  gallery: string;
  image: string;
  version: string;
  pulls: {
    total: number;
    recent: number;
    bySite: Record<string, number>;
    byDay: { day: string; count: number }[];
    lastPulledAt: string | null;
  };
}

export function Progress({ r }: { r: Replica }) {
  if (r.state === "completed")
    return <>{r.bytesTotal === 0 ? "nothing to send" : `${bytes(r.bytesTotal)} sent`}</>;
  if (r.bytesTotal === 0) return <>{r.state === "copying" ? "working out what to send" : "—"}</>;
  return (
    <span className="progress">
      <progress value={r.bytesDone} max={r.bytesTotal} aria-label={`Copy to ${r.site}`} />{" "}
      {bytes(r.bytesDone)} of {bytes(r.bytesTotal)}
    </span>
  );
}

export function ReplicaRows({ replicas, withVersion }: { replicas: Replica[]; withVersion: boolean }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {withVersion && <th scope="col">Version</th>}
            <th scope="col">Site</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {replicas.map((r) => (
            <tr key={`${r.gallery}/${r.image}:${r.version}@${r.site}`}>
              {withVersion && (
                <td>
                  <Link to={versionPath(r.gallery, r.image, r.version)}>
                    {r.gallery}/{r.image}:{r.version}
                  </Link>
                </td>
              )}
              <td>
                {r.site}
                {r.region !== undefined && <span className="muted"> ({r.region})</span>}
              </td>
              <td>
                <StateBadge state={r.state} />
              </td>
              <td>
                <Progress r={r} />
              </td>
              <td>{r.attempts}</td>
              <td>
                {r.error ?? "—"}
                {r.nextAttemptAt !== undefined && (
                  <span className="muted"> · next try {date(r.nextAttemptAt)}</span>
                )}
              </td>
              <td>{date(r.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Replication({ v }: { v: VersionDetail }) {
  const path = versionPath(v.gallery, v.image, v.version);
  const polled = usePoll(
    () =>
      api<Replica[]>("GET", `${path}/replication`).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) return [];
        throw e;
      }),
    `replication:${path}`,
  );
  return (
    <section aria-labelledby="replication-title">
      <h2 id="replication-title">Replication</h2>
      <ErrorNote error={polled.error} />
      {polled.data === undefined ? (
        polled.error === undefined && <p className="muted">Loading…</p>
      ) : polled.data.length === 0 ? (
        <p className="muted">This version is not copied to other sites.</p>
      ) : (
        <ReplicaRows replicas={polled.data} withVersion={false} />
      )}
    </section>
  );
}

export function Pulls({ v }: { v: VersionDetail }) {
  const { session } = useSession();
  // The usage report answers members only: an anonymous reader is not asked to sign in twice.
  if (isAnonymousReader(session))
    return (
      <section aria-labelledby="pulls-title">
        <h2 id="pulls-title">Pulls</h2>
        <p className="muted">Pull counts are shown to the gallery's members: sign in to see them.</p>
      </section>
    );
  return <PullCounts v={v} />;
}

function PullCounts({ v }: { v: VersionDetail }) {
  const polled = usePoll(
    () =>
      api<{ days: number; versions: VersionUsage[] }>("GET", `/usage?gallery=${seg(v.gallery)}`).then(
        (r) => ({
          days: r.days,
          usage: r.versions.find((u) => u.image === v.image && u.version === v.version),
        }),
      ),
    `usage:${v.gallery}`,
  );
  const data = polled.data;
  return (
    <section aria-labelledby="pulls-title">
      <h2 id="pulls-title">Pulls</h2>
      <ErrorNote error={polled.error} />
      {data === undefined ? (
        polled.error === undefined && <p className="muted">Loading…</p>
      ) : data.usage === undefined ? (
        <p className="muted">The usage report has no entry for this version.</p>
      ) : (
        <dl className="facts">
          <dt>Pulls</dt>
          <dd>
            {data.usage.pulls.total} in all, {data.usage.pulls.recent} in the last {data.days} days
          </dd>
          <dt>Last pulled</dt>
          <dd>{data.usage.pulls.lastPulledAt === null ? "never" : date(data.usage.pulls.lastPulledAt)}</dd>
          {Object.keys(data.usage.pulls.bySite).length > 0 && (
            <>
              <dt>By site</dt>
              <dd>
                {Object.entries(data.usage.pulls.bySite)
                  .map(([site, n]) => `${site}: ${n}`)
                  .join(", ")}
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}

export function SupplyChain({ v }: { v: VersionDetail }) {
  const repo = `${v.gallery}/${v.image}`;
  const loaded = useLoad(async () => {
    const [chain, keys, checks] = await Promise.all([
      supplyChain(repo, v.digest),
      api<GalleryKeys>("GET", `/galleries/${seg(v.gallery)}/keys`).catch(() => undefined),
      api<SignatureChecks>("GET", `${versionPath(v.gallery, v.image, v.version)}/signatures`).catch(
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      ),
    ]);
    return { ...chain, keys, checks };
  }, `supply:${repo}@${v.digest}`);
  const chain = loaded.data;
  return (
    <>
      <section aria-labelledby="provenance-title">
        <h2 id="provenance-title">Provenance</h2>
        <ErrorNote error={loaded.error} />
        {chain === undefined ? (
          loaded.error === undefined && <p className="muted">Loading…</p>
        ) : chain.provenance === undefined ? (
          <p className="muted">No build provenance is attached to this version.</p>
        ) : (
          <dl className="facts">
            <dt>Builder</dt>
            <dd>{chain.provenance.builder ?? "—"}</dd>
            <dt>Source</dt>
            <dd>{chain.provenance.source ?? "—"}</dd>
            {chain.provenance.revision !== undefined && (
              <>
                <dt>Revision</dt>
                <dd>
                  <code>{chain.provenance.revision}</code>
                </dd>
              </>
            )}
            <dt>Build id</dt>
            <dd>{chain.provenance.buildId ?? "—"}</dd>
            {chain.provenance.buildType !== undefined && (
              <>
                <dt>Build type</dt>
                <dd>{chain.provenance.buildType}</dd>
              </>
            )}
            <dt>Built</dt>
            <dd>
              {date(chain.provenance.startedOn)} – {date(chain.provenance.finishedOn)}
            </dd>
            <dt>Statement</dt>
            <dd>
              <code className="digest">{shortDigest(chain.provenance.digest)}</code>
            </dd>
          </dl>
        )}
      </section>
      <section aria-labelledby="sbom-title">
        <h2 id="sbom-title">Packages (SBOM)</h2>
        {chain === undefined ? (
          loaded.error === undefined && <p className="muted">Loading…</p>
        ) : chain.sbom === undefined ? (
          <p className="muted">No SBOM is attached to this version.</p>
        ) : (
          <Packages sbom={chain.sbom} />
        )}
      </section>
      <section aria-labelledby="signatures-title">
        <h2 id="signatures-title">Signatures</h2>
        <p className="muted">
          The server checks each signature of this version against the keys this gallery trusts, as{" "}
          <code>strata verify</code> does: a signature is verified when a trusted key verifies it over this
          version's digest.
        </p>
        {chain === undefined ? (
          loaded.error === undefined && <p className="muted">Loading…</p>
        ) : !(chain.checks instanceof Error) ? (
          <Verified checks={chain.checks} />
        ) : (
          <>
            <ErrorNote error={chain.checks} />
            <p className="muted">
              The signatures attached, as their bundles state them (not checked here; run{" "}
              <code>strata verify</code>):
            </p>
            {chain.signatures.length === 0 ? (
              <p className="muted">No signature is attached to this version.</p>
            ) : (
              <Signatures signatures={chain.signatures} keys={chain.keys} />
            )}
          </>
        )}
        {chain !== undefined && chain.problems.length > 0 && (
          <>
            <h3>Attached documents the console could not read</h3>
            <ul className="mono">
              {chain.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </>
        )}
      </section>
    </>
  );
}

const PAGE = 50;

function Packages({ sbom }: { sbom: Sbom }) {
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(0);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return needle === "" ? sbom.packages : sbom.packages.filter((p) => p.name.toLowerCase().includes(needle));
  }, [sbom, search]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE));
  const current = Math.min(page, pages - 1);
  return (
    <>
      <p>
        {sbom.packages.length} packages in the {sbom.format} document{" "}
        <code className="digest">{shortDigest(sbom.digest)}</code>.
      </p>
      <div className="filters">
        <label>
          Package name contains
          <input
            type="search"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setPage(0);
            }}
          />
        </label>
      </div>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Package</th>
              <th scope="col">Version</th>
              <th scope="col">Package URL</th>
            </tr>
          </thead>
          <tbody>
            {shown.slice(current * PAGE, (current + 1) * PAGE).map((p, i) => (
              <tr key={`${p.purl ?? p.name}:${i}`}>
                <td>{p.name}</td>
                <td>{p.version ?? "—"}</td>
                <td className="mono">{p.purl ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager
        label="Package pages"
        current={current}
        pages={pages}
        count={shown.length}
        noun="packages"
        onPage={setPage}
      />
    </>
  );
}

interface SignatureChecks {
  digest: string;
  trustedKeys: number;
  verified: boolean;
  signatures: {
    format: "bundle" | "legacy";
    source: string;
    status: "valid" | "untrusted-key" | "bad-signature" | "wrong-digest" | "key-expired" | "malformed";
    valid: boolean;
    keyId?: string;
    gallerySigningKey?: boolean;
    signedAt?: string;
    covers: { digest?: string; reference?: string };
    problem?: string;
  }[];
}

const WHY: Record<Exclude<SignatureChecks["signatures"][number]["status"], "valid">, string> = {
  "untrusted-key": "unknown key",
  "bad-signature": "bad signature",
  "wrong-digest": "wrong digest",
  "key-expired": "key expired",
  malformed: "malformed",
};

/** The server's verdict on each signature: verified by which key, or not and why. */
function Verified({ checks }: { checks: SignatureChecks }) {
  if (checks.trustedKeys === 0)
    return (
      <p>
        This gallery trusts no key (<code>gallery.signing</code> names none), so no signature of it can be
        verified.
      </p>
    );
  if (checks.signatures.length === 0)
    return <p className="muted">No signature is attached to this version: it is not verified.</p>;
  return (
    <>
      <p>
        {checks.verified
          ? "Verified: at least one signature is valid with a key this gallery trusts."
          : "Not verified: no signature is valid with a key this gallery trusts."}
      </p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Key id</th>
              <th scope="col">Signed at (as stated)</th>
              <th scope="col">Format</th>
              <th scope="col">Signature</th>
            </tr>
          </thead>
          <tbody>
            {checks.signatures.map((s) => (
              <tr key={s.source}>
                <td>
                  {s.valid ? (
                    <>
                      <strong>verified</strong>
                      {s.gallerySigningKey === true
                        ? " with the gallery's signing key"
                        : " with a key the gallery trusts"}
                    </>
                  ) : (
                    <>
                      <strong>not verified</strong>: {WHY[s.status as keyof typeof WHY] ?? s.status}
                      {s.problem !== undefined && <span className="muted"> — {s.problem}</span>}
                    </>
                  )}
                </td>
                <td className="mono">{s.keyId ?? "—"}</td>
                <td>{date(s.signedAt)}</td>
                <td>{s.format}</td>
                <td>
                  <code className="digest">
                    {s.source.startsWith("sha256:") ? shortDigest(s.source) : s.source}
                  </code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

interface GalleryKeys {
  signs: boolean;
  keys: { keyId: string; signing: boolean }[];
}

function Signatures({ signatures, keys }: { signatures: Signature[]; keys: GalleryKeys | undefined }) {
  const known = (keyId: string | undefined): string => {
    if (keys === undefined || keyId === undefined) return "—";
    const key = keys.keys.find((k) => k.keyId === keyId);
    if (key === undefined) return "no";
    return key.signing ? "yes, its signing key" : "yes, trusted";
  };
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Key id</th>
            <th scope="col">Signed at (as stated)</th>
            <th scope="col">Reference signed</th>
            <th scope="col">A key of this gallery</th>
            <th scope="col">Signature</th>
          </tr>
        </thead>
        <tbody>
          {signatures.map((s) => (
            <tr key={s.digest}>
              <td className="mono">{s.keyId ?? "—"}</td>
              <td>{s.signedAt !== undefined ? date(s.signedAt) : date(s.created)}</td>
              <td>{s.reference ?? "—"}</td>
              <td>{known(s.keyId)}</td>
              <td>
                <code className="digest">{shortDigest(s.digest)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
