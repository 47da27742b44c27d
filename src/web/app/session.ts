// The signed-in user, shared by every page: loaded from GET /api/v1/session (or, without a
// session, /api/v1/whoami, which says whether the server grants anonymous reads: then the console
// opens without sign-in, read only), changed by sign-in and sign-out.
import { createContext, useContext } from "react";
import { api, ApiError, setCsrfToken, type SessionInfo } from "./api.ts";

export interface SessionState {
  session: SessionInfo;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<SessionState | undefined>(undefined);

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === undefined) throw new Error("useSession outside the session provider");
  return state;
}

export async function loadSession(): Promise<SessionInfo> {
  try {
    const s = await api<{ user: string; csrfToken: string }>("GET", "/session");
    setCsrfToken(s.csrfToken);
    return { user: s.user, authentication: true, anonymousRead: false, csrfToken: s.csrfToken };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    setCsrfToken(undefined);
    const who = await api<{ user: string | null; authentication: boolean; anonymous?: "none" | "read" }>(
      "GET",
      "/whoami",
    );
    return { user: who.user, authentication: who.authentication, anonymousRead: who.anonymous === "read" };
  }
}

export async function postSession(username: string, password: string): Promise<SessionInfo> {
  const s = await api<{ user: string; csrfToken: string }>("POST", "/session", { username, password });
  setCsrfToken(s.csrfToken);
  return { user: s.user, authentication: true, anonymousRead: false, csrfToken: s.csrfToken };
}

/** Signed out (or never signed in) where the server lets anonymous callers read the galleries. */
export const isAnonymousReader = (session: SessionInfo): boolean =>
  session.authentication && session.user === null && session.anonymousRead;

export async function deleteSession(): Promise<void> {
  await api("DELETE", "/session");
  setCsrfToken(undefined);
}
