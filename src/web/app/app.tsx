// The console's shell: the session, the header with navigation and the signed-in user, and the
// page for the current path. The first pages (sign-in, galleries, a gallery) are in the main
// chunk; the heavier ones load when first visited.
import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import type { SessionInfo } from "./api.ts";
import { Link, match, navigate, useLocation } from "./router.tsx";
import {
  deleteSession,
  isAnonymousReader,
  loadSession,
  postSession,
  SessionContext,
  useSession,
} from "./session.ts";
import { ErrorNote } from "./ui.tsx";
import { GalleriesPage } from "./pages/galleries.tsx";
import { GalleryPage } from "./pages/gallery.tsx";
import { SignInPage } from "./pages/sign-in.tsx";

const DefinitionPage = lazy(() => import("./pages/definition.tsx"));
const VersionPage = lazy(() => import("./pages/version.tsx"));
const ApprovalsPage = lazy(() => import("./pages/approvals.tsx"));
const AuditPage = lazy(() => import("./pages/audit.tsx"));
const UsagePage = lazy(() => import("./pages/usage.tsx"));
const ReplicationPage = lazy(() => import("./pages/replication.tsx"));
const PolicyPage = lazy(() => import("./pages/policy.tsx"));
const RegistryPage = lazy(() => import("./pages/registry.tsx"));
const SearchPage = lazy(() => import("./pages/search.tsx"));

export function App() {
  const [session, setSession] = useState<SessionInfo>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    loadSession().then(setSession, (e: unknown) => setError(e instanceof Error ? e : new Error(String(e))));
  }, []);
  const signIn = useCallback(async (username: string, password: string) => {
    setSession(await postSession(username, password));
  }, []);
  const signOut = useCallback(async () => {
    await deleteSession();
    setSession(await loadSession());
    navigate("/sign-in");
  }, []);
  const state = useMemo(
    () => (session === undefined ? undefined : { session, signIn, signOut }),
    [session, signIn, signOut],
  );
  if (state === undefined) {
    return (
      <main id="main">
        {error === undefined ? <p className="muted">Loading…</p> : <ErrorNote error={error} />}
      </main>
    );
  }
  return (
    <SessionContext.Provider value={state}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Page />
        </Suspense>
      </main>
    </SessionContext.Provider>
  );
}

function Header() {
  const { session, signOut } = useSession();
  const { path } = useLocation();
  const [error, setError] = useState<Error>();
  // Anonymous readers see the pages the API answers them: galleries and the registry.
  const anonymous = isAnonymousReader(session);
  const nav = (to: string, label: string, active: boolean) => (
    <li>
      <Link to={to} aria-current={active ? "page" : undefined}>
        {label}
      </Link>
    </li>
  );
  return (
    <header className="top">
      <Link to="/" className="brand">
        Strata
      </Link>
      <nav aria-label="Main">
        <ul>
          {nav("/", "Galleries", path === "/" || path.startsWith("/galleries"))}
          {!anonymous && nav("/approvals", "Approvals", path.startsWith("/approvals"))}
          {!anonymous && nav("/replication", "Replication", path.startsWith("/replication"))}
          {!anonymous && nav("/usage", "Usage", path.startsWith("/usage"))}
          {!anonymous && nav("/policy", "Policy", path.startsWith("/policy"))}
          {nav("/registry", "Registry", path.startsWith("/registry"))}
          {!anonymous && nav("/search", "Search", path.startsWith("/search"))}
          {!anonymous && nav("/audit", "Audit log", path.startsWith("/audit"))}
        </ul>
      </nav>
      <div className="who">
        {session.user !== null ? (
          <>
            <span>
              Signed in as <strong>{session.user}</strong>
            </span>
            <button type="button" onClick={() => signOut().catch((e: unknown) => setError(e as Error))}>
              Sign out
            </button>
          </>
        ) : session.authentication ? (
          <>
            {anonymous && <span className="muted">Anonymous, read only</span>}
            <Link to={`/sign-in?next=${encodeURIComponent(path === "/sign-in" ? "/" : path)}`}>Sign in</Link>
          </>
        ) : (
          <span className="muted">Authentication is off</span>
        )}
      </div>
      <ErrorNote error={error} />
    </header>
  );
}

function Page(): ReactNode {
  const { path, query } = useLocation();
  const { session } = useSession();
  const G = "/galleries/:gallery";
  const I = `${G}/images/:image`;
  let m: Record<string, string> | undefined;
  if (path === "/sign-in") return <SignInPage next={query.get("next") ?? "/"} />;
  if (session.authentication && session.user === null && !session.anonymousRead && path === "/") {
    // Without anonymous reads the gallery API answers only signed-in users: start by signing in.
    return <SignInPage next="/galleries" />;
  }
  if (path === "/" || path === "/galleries") return <GalleriesPage />;
  if ((m = match(G, path))) return <GalleryPage gallery={m.gallery ?? ""} />;
  if ((m = match(I, path))) return <DefinitionPage gallery={m.gallery ?? ""} image={m.image ?? ""} />;
  if ((m = match(`${I}/versions/:version`, path)))
    return <VersionPage gallery={m.gallery ?? ""} image={m.image ?? ""} version={m.version ?? ""} />;
  if (path === "/approvals") return <ApprovalsPage />;
  if (path === "/audit") return <AuditPage />;
  if (path === "/usage") return <UsagePage />;
  if (path === "/replication") return <ReplicationPage />;
  if (path === "/policy") return <PolicyPage />;
  if (path === "/registry") return <RegistryPage />;
  if (path === "/search") return <SearchPage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no page at this address. <Link to="/">Go to the galleries</Link>.
      </p>
    </>
  );
}
