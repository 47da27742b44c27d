// What the webhook asks of the rest of Strata: a decision for the images of an object and, for
// the mutating webhook, the digest a reference resolves to. Both are injected (the server
// connects the policy engine and a resolver), so this domain knows no registry or gallery.

/** Where an image sits in the pod spec. */
export type ContainerKind = "container" | "initContainer" | "ephemeralContainer";

export interface AdmissionImage {
  /** The image exactly as the object gives it, e.g. `nginx:1.25` or `reg.example/app@sha256:…`. */
  readonly reference: string;
  /** Name of the container. */
  readonly container: string;
  readonly kind: ContainerKind;
  /** JSON Pointer (RFC 6901) of the `image` field in the object, e.g. `/spec/template/spec/containers/0/image`. */
  readonly path: string;
}

export interface AdmissionContext {
  /** Namespace of the request; absent for cluster-scoped objects. */
  readonly namespace?: string;
  /** CREATE or UPDATE (other operations are allowed without asking). */
  readonly operation: string;
  /** Kind and name of the object (name may be empty when the API server generates it). */
  readonly object: { readonly kind: string; readonly name: string };
  /** The requesting user, as the API server authenticated them. */
  readonly user?: string;
  /** True for a server-side dry run: nothing will be persisted. */
  readonly dryRun: boolean;
}

export type AdmissionOutcome = "allow" | "warn" | "deny";

export interface ImageDecision {
  /** The reference the decision is for (one of the references asked). */
  readonly reference: string;
  readonly outcome: AdmissionOutcome;
  /** Why, one line each, naming policy and rule, e.g. `policy "prod" rule "signed": no signature by "pipeline"`. */
  readonly reasons: readonly string[];
  /** The digest the reference resolved to, when the decision knows it. */
  readonly digest?: string;
}

/**
 * Decides the images of one object. Called once per review with every image (a reference used
 * by several containers appears once per container); answers one result per distinct reference.
 * A reference without a result is denied. `signal` aborts when the admission timeout passes.
 * Audit-mode policies answer "allow" (and record the decision themselves).
 */
export type AdmissionDecide = (
  images: readonly AdmissionImage[],
  context: AdmissionContext,
  signal: AbortSignal,
) => Promise<{ readonly results: readonly ImageDecision[] }>;

/**
 * The digest (`sha256:…`) that `reference` (given by tag, or by name alone) points to now.
 * Throws when it cannot be resolved; the message becomes the reason of the denial.
 */
export type ResolveDigest = (reference: string, signal: AbortSignal) => Promise<string>;

export interface AdmissionDeps {
  readonly decide: AdmissionDecide;
  readonly resolve: ResolveDigest;
}

export interface AdmissionOptions {
  /** Milliseconds a decision (or all resolutions of a review) may take; then the review is denied. */
  readonly timeoutMs: number;
  /** Largest request body accepted, in bytes. */
  readonly bodyMaxBytes: number;
}
