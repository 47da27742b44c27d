// The fact document: what Strata knows about one image when a policy decides. The caller (the
// registry pull path, `strata run`, the admission webhook, `strata policy check`) gathers it;
// policy/ only reads it. Plain JSON: CEL rules see it as `image`. A group of facts that could not
// be read (registry error, timeout) is left out and named in `unavailable` with the reason, so
// rules that need it fail closed instead of passing on missing data.

/** Where an image is consumed. */
export const POLICY_POINTS = ["pull", "run", "admission", "check"] as const;
export type PolicyPoint = (typeof POLICY_POINTS)[number];

/** Groups of facts read separately; each may be unavailable. */
export const FACT_GROUPS = ["config", "gallery", "signatures", "sbom", "provenance", "base"] as const;
export type FactGroup = (typeof FACT_GROUPS)[number];

/** A gallery version's state, as the gallery reports it (end-of-life once its EOL date passed). */
export type VersionStateFact = "published" | "deprecated" | "revoked" | "deleted" | "end-of-life";

/** How the reference named the gallery content. */
export type GalleryRefKind = "version" | "channel" | "latest" | "digest" | "tag";

export interface GalleryFacts {
  readonly gallery: string;
  /** The image definition's name. */
  readonly image: string;
  readonly version: string;
  readonly state: VersionStateFact;
  /** End-of-life date (RFC 3339), when set. */
  readonly eol?: string;
  /** Whether the EOL date has passed. */
  readonly pastEol: boolean;
  /** Channels of the definition that point at this version. */
  readonly channels: readonly string[];
  /** Whether this version is the definition's computed `latest`. */
  readonly latest: boolean;
  /** What the reference was: a version number, a channel, `latest`, a digest a version pins, or an ordinary tag. */
  readonly ref: GalleryRefKind;
}

export interface SignatureFact {
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  readonly keyId: string;
  /** The key's name when the caller knows it (policy.keys, the gallery's keys). */
  readonly keyName?: string;
  /** Whether the signature verified against that key and covers this digest. */
  readonly valid: boolean;
  /** RFC 3339. */
  readonly signedAt?: string;
}

export interface PackageFact {
  readonly name: string;
  readonly version: string;
  /** Ecosystem: `deb`, `rpm`, `apk` (others pass through as their purl type). */
  readonly type: string;
  readonly purl?: string;
}

export interface SbomFacts {
  readonly present: boolean;
  /** `spdx`, `cyclonedx`. */
  readonly formats: readonly string[];
  readonly packageCount: number;
  readonly packages: readonly PackageFact[];
}

export interface ProvenanceFacts {
  readonly present: boolean;
  readonly builderId?: string;
  readonly buildType?: string;
  /** Source repository URI. */
  readonly source?: string;
  readonly revision?: string;
}

export interface BaseFacts {
  readonly digest: string;
  /** The gallery definition whose version the base is, `GALLERY/NAME`, when known. */
  readonly definition?: string;
  readonly version?: string;
}

export interface ImageFacts {
  /** The reference as asked, e.g. `registry.example/prod/web:1.4.2`. */
  readonly reference: string;
  /** Registry host (with port); empty for this server's own content. */
  readonly registry: string;
  readonly repository: string;
  /** When asked by tag. */
  readonly tag?: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly kind: "image" | "index" | "disk";
  /** Image config `created` (RFC 3339), when the config has one. */
  readonly created?: string;
  /** Whole and fractional days since `created`. */
  readonly ageDays?: number;
  /** Image config labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Present when the digest is a version of a gallery. */
  readonly gallery?: GalleryFacts;
  readonly signatures?: readonly SignatureFact[];
  readonly sbom?: SbomFacts;
  readonly provenance?: ProvenanceFacts;
  /** The base image, when the image records one. */
  readonly base?: BaseFacts;
  /** Groups that could not be read, with why: their fields above are absent. */
  readonly unavailable?: Readonly<Partial<Record<FactGroup, string>>>;
}

/** Why `group` is unavailable in `facts`, or undefined when it was read. */
export function unavailableReason(facts: ImageFacts, group: FactGroup): string | undefined {
  return facts.unavailable?.[group];
}

/**
 * Facts for an image nothing could be read about beyond its name (e.g. the timeout expired):
 * every group unavailable for `reason`, so every rule that needs facts fails.
 */
export function unavailableFacts(
  identity: Pick<ImageFacts, "reference" | "registry" | "repository" | "digest"> &
    Partial<Pick<ImageFacts, "tag" | "mediaType" | "kind">>,
  reason: string,
): ImageFacts {
  return {
    mediaType: "",
    kind: "image",
    ...identity,
    labels: {},
    unavailable: Object.fromEntries(FACT_GROUPS.map((group) => [group, reason])),
  };
}

/** Days between `created` (RFC 3339) and `now` (ms since the epoch), or undefined for a bad date. */
export function ageInDays(created: string, now: number): number | undefined {
  const at = Date.parse(created);
  return Number.isNaN(at) ? undefined : (now - at) / 86_400_000;
}
