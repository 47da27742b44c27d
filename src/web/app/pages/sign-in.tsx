// Sign-in with a configured user's name and password (POST /api/v1/session); where the server
// grants anonymous reads, the galleries are one link away without signing in.
import { useState, type FormEvent } from "react";
import { Link, navigate } from "../router.tsx";
import { useSession } from "../session.ts";
import { ErrorNote, useTitle } from "../ui.tsx";

export function SignInPage({ next }: { next: string }) {
  useTitle("Sign in");
  const { session, signIn } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  // Only paths of this console: never an absolute URL from the query string.
  const target = next.startsWith("/") && !next.startsWith("//") && next !== "/sign-in" ? next : "/";
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(username, password);
      navigate(target, { replace: true });
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
      setBusy(false);
    }
  };
  if (!session.authentication) {
    return (
      <>
        <h1>No sign-in needed</h1>
        <p>
          This server has no users configured: everyone may do everything.{" "}
          <Link to="/">Go to the galleries</Link>.
        </p>
      </>
    );
  }
  return (
    <section className="narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {session.user !== null && (
        <p>
          You are signed in as <strong>{session.user}</strong>; signing in again replaces that session.
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} className="stack">
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      {session.user === null && session.anonymousRead && (
        <p>
          This server lets anyone read its galleries without signing in:{" "}
          <Link to="/">browse them read only</Link>.
        </p>
      )}
      <p className="muted">
        The users are those of the server's configuration (<code>auth.users</code>), with the passwords the
        registry accepts.
      </p>
    </section>
  );
}
