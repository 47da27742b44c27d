// The gallery's vocabulary: galleries with members and roles, image definitions, immutable
// versions with a lifecycle, channels with history, approval requests and audit entries.
import { GalleryError, q } from "./errors.ts";

export const ROLES = ["reader", "publisher", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];
/** Each role includes the rights of the ones before it. */
export const roleRank = (role: Role): number => ROLES.indexOf(role);

export const MODES = ["enforce", "warn", "off"] as const;
export type EnforcementMode = (typeof MODES)[number];

export const KINDS = ["container", "vm"] as const;
export type ImageKind = (typeof KINDS)[number];

/** Stored states; "end-of-life" is never stored: it follows from the EOL date. */
export const STORED_STATES = ["published", "deprecated", "revoked", "deleted"] as const;
export type StoredState = (typeof STORED_STATES)[number];
export type VersionState = StoredState | "end-of-life";

/** The reference that resolves to the computed latest version. */
export const LATEST = "latest";

/** A gallery's signing keys as the API shows them: public halves only. */
/** A version's signatures, each checked against the gallery's trusted keys. */
export interface VersionSignatures {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly digest: string;
  /** How many keys the gallery trusts; none: no signature can be valid. */
  readonly trustedKeys: number;
  /** At least one signature is valid. */
  readonly verified: boolean;
  readonly signatures: readonly {
    readonly format: "bundle" | "legacy";
    /** The referrer's manifest digest, or the `.sig` tag and layer. */
    readonly source: string;
    readonly status:
      "valid" | "untrusted-key" | "bad-signature" | "wrong-digest" | "key-expired" | "malformed";
    readonly valid: boolean;
    /** The key that verified it, or the key it names. */
    readonly keyId?: string;
    /** Whether that key is the one the gallery signs with (absent for an unknown key). */
    readonly gallerySigningKey?: boolean;
    /** The signing time the signer claims. */
    readonly signedAt?: string;
    readonly covers: { readonly digest?: string; readonly reference?: string };
    /** Why it is not valid. */
    readonly problem?: string;
  }[];
}

export interface GalleryKeys {
  readonly gallery: string;
  /** Whether versions published or copied into the gallery are signed by the server. */
  readonly signs: boolean;
  readonly keys: readonly {
    readonly keyId: string;
    /** The key the gallery signs with (the others are trusted only). */
    readonly signing: boolean;
    readonly notAfter?: string;
    readonly expired?: boolean;
    /** PEM SubjectPublicKeyInfo. */
    readonly publicKey: string;
  }[];
}

export interface Gallery {
  readonly name: string;
  readonly description: string;
  readonly mode: EnforcementMode;
  /** Approvals a copy into this gallery needs (0 = none). */
  readonly approvals: number;
  /** Days a deleted version stays restorable. */
  readonly restoreDays: number;
  readonly members: Readonly<Record<string, Role>>;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface VmProperties {
  readonly generation?: "v1" | "v2";
  readonly bootMode?: "bios" | "uefi";
  readonly secureBoot?: boolean;
  readonly recommendedVcpus?: number;
  readonly recommendedMemoryMiB?: number;
}

export interface DefinitionMetadata {
  readonly description?: string;
  readonly os?: string;
  readonly arch?: string;
  readonly publisher?: string;
  readonly owner?: string;
  readonly releaseNotesUrl?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly vm?: VmProperties;
  /** Sites (of the server's `sites`) each new version is replicated to unless it names its own. */
  readonly replicateTo?: readonly string[];
  /** Versions built longer ago than this many days count as stale in usage reports. */
  readonly rebuildDays?: number;
  /** What the sweep retires on its own; see docs/retention.md. */
  readonly retention?: RetentionRules;
}

export interface RetentionRules {
  /** Keep only the newest N published versions; older ones are deprecated (then deleted by the other rules). */
  readonly keepLast?: number;
  /** Deprecate a published version this many days after it was published. */
  readonly deprecateAfterDays?: number;
  /** Delete a version this many days after its end of life. */
  readonly deleteAfterEolDays?: number;
  /** Delete a version not pulled for this many days (counted from its publication when never pulled). */
  readonly deleteUnusedDays?: number;
}

export interface ImageDefinition extends DefinitionMetadata {
  readonly gallery: string;
  readonly name: string;
  /** `<gallery>/<name>`: the registry repository. */
  readonly repository: string;
  readonly kind: ImageKind;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface ImageVersion {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly digest: string;
  readonly mediaType: string;
  /** State at the time of reading: stored state, or end-of-life once the EOL date passed. */
  readonly state: VersionState;
  readonly changelog?: string;
  readonly buildId?: string;
  readonly sourceRevision?: string;
  readonly owner?: string;
  readonly baseDigest?: string;
  readonly eol?: string;
  readonly excludeFromLatest: boolean;
  readonly createdAt: string;
  readonly publishedBy: string;
  readonly approvals: readonly Approval[];
  readonly deprecation?: { readonly reason: string; readonly replacement?: string; readonly at: string };
  readonly revocation?: { readonly reason: string; readonly at: string; readonly by: string };
  readonly deletion?: { readonly at: string; readonly by: string; readonly restorableUntil: string };
}

/**
 * Bytes of a version: total, every distinct blob reachable from its manifest; shared, the part
 * also reachable from another version (any gallery, copies included); own = total − shared.
 */
export interface VersionBytes {
  readonly total: number;
  readonly own: number;
  readonly shared: number;
}

/** One version as GET of it answers: with its bytes. */
export interface ImageVersionDetail extends ImageVersion {
  readonly bytes: VersionBytes;
  /** What changed since the previous version, computed on publish (see changes.ts). */
  readonly changes?: VersionChanges;
  /** The version's copies at its target sites, when it has targets. */
  readonly replication?: readonly ReplicaStatus[];
}

/** A version's computed changes against the previous version, summarised. */
export interface VersionChanges {
  /** The version the diff is taken against, and its digest. */
  readonly against: { readonly version?: string; readonly digest: string };
  /** The referrer holding the whole diff. */
  readonly referrer: string;
  readonly packages?: {
    readonly added: number;
    readonly removed: number;
    readonly upgraded: number;
    readonly downgraded: number;
  };
  readonly files?: { readonly added: number; readonly removed: number; readonly changed: number };
  /** The config fields that changed (env, cmd, labels…). */
  readonly config?: readonly string[];
}

export interface Approval {
  readonly user: string;
  readonly at: string;
  readonly comment?: string;
}

export interface Channel {
  readonly gallery: string;
  readonly image: string;
  readonly name: string;
  readonly version: string | null;
  readonly restricted: boolean;
  readonly approvals: number;
  /** Number of moves so far; the history has exactly this many entries. */
  readonly seq: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface ChannelMove {
  readonly seq: number;
  readonly version: string | null;
  readonly previous: string | null;
  readonly action: "set" | "rollback" | "approved";
  readonly actor: string;
  readonly at: string;
  readonly request?: string;
}

export type RequestKind = "channel" | "copy";
/** "applying" while the change of the last needed approval is being made. */
export type RequestState = "pending" | "applying" | "applied" | "rejected" | "failed";

export interface ApprovalRequest {
  readonly id: string;
  readonly kind: RequestKind;
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly target: { readonly gallery: string; readonly image: string; readonly channel?: string };
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly required: number;
  readonly approvals: readonly Approval[];
  readonly state: RequestState;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly reason?: string;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly gallery: string;
  readonly image?: string;
  readonly version?: string;
  readonly target?: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export const EVENT_TYPES = [
  "version.published",
  "version.promoted",
  "version.deprecated",
  "version.revoked",
  "version.deleted",
  "version.restored",
] as const;
export type GalleryEventType = (typeof EVENT_TYPES)[number];

export interface GalleryEvent {
  readonly type: GalleryEventType;
  readonly at: string;
  readonly actor: string;
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly digest: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

// Names: a gallery is one registry path component, an image definition another; channels and
// users are short words. Names are lowercase, as registry path components must be.
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const CHANNEL_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function checkComponentName(kind: "gallery" | "image definition", name: string): string {
  if (name.length === 0 || name.length > 64 || !COMPONENT_RE.test(name)) {
    throw new GalleryError(
      "INVALID",
      `Invalid ${kind} name ${q(name)}: expected 1-64 lowercase letters and digits, separated by ".", "_" or "-"`,
      { detail: { name: name.slice(0, 100) } },
    );
  }
  return name;
}

export function checkChannelName(name: string): string {
  if (!CHANNEL_RE.test(name) || name === LATEST || /^\d+\.\d+\.\d+$/.test(name)) {
    throw new GalleryError(
      "INVALID",
      `Invalid channel name ${q(name)}: expected 1-63 lowercase letters, digits, ".", "_" or "-", not "latest" and not a version number`,
      { detail: { channel: name.slice(0, 100) } },
    );
  }
  return name;
}

export function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new GalleryError("INVALID", `Invalid role ${q(role)}: expected one of ${ROLES.join(", ")}`);
  }
  return role as Role;
}

/** A version's copy at one site: see docs/replication.md. */
export const REPLICA_STATES = ["pending", "copying", "completed", "failed", "removing"] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export interface ReplicaStatus {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly site: string;
  readonly region?: string;
  readonly digest: string;
  readonly state: ReplicaState;
  /** Bytes the site lacked when the copy started, and how many of them have been sent. */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly attempts: number;
  /** Why the last attempt failed. */
  readonly error?: string;
  /** When a failed copy is tried again. */
  readonly nextAttemptAt?: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
}
