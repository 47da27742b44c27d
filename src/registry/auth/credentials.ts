// Parses the Authorization header: Basic user:password, a Bearer token, none, or malformed.
import type { RequestHeaders } from "./types.ts";

export type Credentials =
  | { readonly kind: "none" }
  | { readonly kind: "basic"; readonly user: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "malformed"; readonly reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function parseAuthorization(headers: RequestHeaders): Credentials {
  const raw = headers.authorization;
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const m = /^([A-Za-z]+) +(\S+)\s*$/.exec(header);
  if (m === null) return { kind: "malformed", reason: "expected a scheme and credentials" };
  const scheme = (m[1] ?? "").toLowerCase();
  const value = m[2] ?? "";
  if (scheme === "bearer") {
    return TOKEN68.test(value)
      ? { kind: "bearer", token: value }
      : { kind: "malformed", reason: "bad token characters" };
  }
  if (scheme !== "basic")
    return { kind: "malformed", reason: `unsupported scheme ${JSON.stringify(m[1]?.slice(0, 20))}` };
  if (!BASE64.test(value)) return { kind: "malformed", reason: "credentials are not base64" };
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return { kind: "malformed", reason: "expected user:password" };
  return { kind: "basic", user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
