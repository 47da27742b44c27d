// The checks of `tls` that span keys: a certificate comes with its key, client certificates are
// asked for only over TLS, and passwords never cross a network in clear text unless the
// configuration says so (`tls.allowPlaintext`).
import { parseAddr } from "./addr.ts";
import type { Problem } from "./config-validate.ts";

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^(?:::ffff:)?127(?:\.\d{1,3}){3}$/.test(h);
}

export interface TlsConfig {
  /** PEM certificate chain (leaf first); with `key`, the server speaks HTTPS only. */
  readonly certificate?: string;
  /** PEM private key of the certificate. */
  readonly key?: string;
  /** PEM CA certificates; when set, every connection must present a client certificate they issued. */
  readonly clientCA?: string;
  /** Milliseconds between checks of the three files for changes. */
  readonly reload: number;
  /** Plain HTTP on a non-loopback address even though users are configured. */
  readonly allowPlaintext: boolean;
}

/** What the cross-key checks read of a configuration. */
export interface TlsCheckInput {
  readonly addr: string;
  readonly auth: { readonly users: Readonly<Record<string, unknown>> };
  readonly tls: TlsConfig;
}

export function checkTlsConfig(config: TlsCheckInput): Problem[] {
  const { certificate, key, clientCA, allowPlaintext } = config.tls;
  const problems: Problem[] = [];
  if (certificate !== undefined && key === undefined) {
    problems.push({
      path: ["tls", "certificate"],
      message: "set tls.key too: a certificate needs its private key",
    });
  }
  if (key !== undefined && certificate === undefined) {
    problems.push({ path: ["tls", "key"], message: "set tls.certificate too: a key alone serves nothing" });
  }
  if (clientCA !== undefined && certificate === undefined) {
    problems.push({
      path: ["tls", "clientCA"],
      message: "needs tls.certificate and tls.key: client certificates are asked for only over TLS",
    });
  }
  if (
    certificate === undefined &&
    !allowPlaintext &&
    Object.keys(config.auth.users).length > 0 &&
    !isLoopbackHost(parseAddr(config.addr).host)
  ) {
    problems.push({
      path: ["addr"],
      message:
        `"${config.addr}" is not a loopback address and auth.users is set, so passwords and tokens ` +
        "would cross the network in clear text: set tls.certificate and tls.key, or " +
        "tls.allowPlaintext: true to serve plain HTTP anyway (e.g. behind a proxy that terminates TLS)",
    });
  }
  return problems;
}
