// Hooks through which another domain (the gallery) shapes what the registry serves, without the
// registry knowing it: references resolved at request time (versions, channels, `latest`),
// decisions on pulls (warn or deny) and on tag pushes (immutable tags). Every hook is optional;
// with none the registry behaves as a plain OCI registry.
import type { Digest } from "../oci/index.ts";

export interface PullDecision {
  /** When set, the pull is refused with DENIED and this message. */
  readonly deny?: string;
  /** Sent as `Warning: 299 - "…"` headers (ASCII, no double quotes). */
  readonly warnings?: readonly string[];
}

/** What the registry knows of a manifest being pulled, from its row. */
export interface PulledManifest {
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly subject?: Digest;
}

export interface RegistryHooks {
  /**
   * Resolves a tag-shaped reference to a digest before tags are consulted; undefined lets the
   * registry use its tags.
   */
  resolveReference?(repository: string, reference: string): Promise<Digest | undefined>;
  /**
   * Decides a manifest pull (GET or HEAD) of `digest`, asked for as `reference`; `manifest` says
   * what the stored manifest is (a referrer has a subject).
   */
  checkPull?(
    repository: string,
    reference: string,
    digest: Digest,
    user?: string,
    manifest?: PulledManifest,
  ): Promise<PullDecision>;
  /** Decides whether `tag` may be pointed at `digest`; a returned string refuses it with DENIED. */
  checkTagPush?(repository: string, tag: string, digest: Digest, user?: string): Promise<string | undefined>;
  /** Decides whether a tag or manifest (by digest) may be deleted; a returned string refuses it. */
  checkDelete?(repository: string, reference: string, user?: string): Promise<string | undefined>;
  /** Decides whether a blob may be unlinked from a repository; a returned string refuses it. */
  checkBlobDelete?(repository: string, digest: Digest, user?: string): Promise<string | undefined>;
}

/** Formats a warning as the distribution spec asks: code 299, agent "-", no date. */
export function warningHeader(text: string): string {
  const clean = text
    .replace(/[^\x20-\x7e]/g, "?")
    .replace(/["\\]/g, "'")
    .slice(0, 1000);
  return `299 - "${clean}"`;
}
