// The `admission` keys: the Kubernetes admission webhooks listen on an address of their own with
// a certificate of their own, as Kyverno's and the sigstore policy-controller's do, because the
// API server calls webhooks over HTTPS only and trusts them through the caBundle of their
// registration, whatever the registry's own TLS is.
import type { Problem } from "./config-validate.ts";

export interface AdmissionConfig {
  /** Listen address of the webhooks; none: the webhooks are not served. */
  readonly addr?: string;
  /** PEM certificate chain the webhooks present (its CA goes in the registration's caBundle). */
  readonly certificate?: string;
  /** PEM private key of `certificate`. */
  readonly key?: string;
  /** PEM CA certificates; when set, callers must present a client certificate they issued. */
  readonly clientCA?: string;
  /** Milliseconds a decision (or the resolutions of one review) may take before the review is denied. */
  readonly timeout: number;
  /** Largest AdmissionReview body accepted, in bytes. */
  readonly bodyMaxBytes: number;
}

export function checkAdmissionConfig(config: AdmissionConfig): Problem[] {
  const problems: Problem[] = [];
  if (config.addr !== undefined) {
    const missing = (["certificate", "key"] as const).filter((field) => config[field] === undefined);
    if (missing.length > 0) {
      problems.push({
        path: ["admission", "addr"],
        message:
          `set ${missing.map((field) => `admission.${field}`).join(" and ")} too: ` +
          "Kubernetes calls admission webhooks over HTTPS only",
      });
    }
    return problems;
  }
  for (const field of ["certificate", "key", "clientCA"] as const) {
    if (config[field] !== undefined)
      problems.push({
        path: ["admission", field],
        message: "set admission.addr too: the webhooks are served only on an address of their own",
      });
  }
  return problems;
}
