// Row types of the gallery's tables (prefixed gallery_), kept in the same database as the
// registry's metadata but migrated on their own. Times are epoch milliseconds; JSON is text.

export interface GalleriesTable {
  name: string;
  description: string;
  mode: string;
  approvals: number;
  restore_days: number;
  created_at: number;
  created_by: string;
}

export interface MembersTable {
  gallery: string;
  user_name: string;
  role: string;
}

export interface ImagesTable {
  gallery: string;
  name: string;
  kind: string;
  /** JSON of DefinitionMetadata. */
  metadata: string;
  created_at: number;
  created_by: string;
}

export interface VersionsTable {
  gallery: string;
  image: string;
  version: string;
  major: number;
  minor: number;
  patch: number;
  digest: string;
  media_type: string;
  /** JSON: changelog, buildId, sourceRevision, owner. */
  metadata: string;
  base_digest: string | null;
  state: string;
  eol: number | null;
  exclude_from_latest: number;
  /** JSON array of approvals that let this version in (copies through approval). */
  approvals: string;
  deprecation: string | null;
  revoke_reason: string | null;
  revoke_at: number | null;
  revoked_by: string | null;
  deleted_at: number | null;
  deleted_by: string | null;
  /** The state to return to on restore. */
  state_before_delete: string | null;
  /** The last restore; retention's delete rules count from it afresh. */
  restored_at: number | null;
  created_at: number;
  published_by: string;
}

export interface ChannelsTable {
  gallery: string;
  image: string;
  name: string;
  version: string | null;
  restricted: number;
  approvals: number;
  seq: number;
  updated_at: number;
  updated_by: string;
}

export interface ChannelHistoryTable {
  gallery: string;
  image: string;
  channel: string;
  seq: number;
  version: string | null;
  previous: string | null;
  action: string;
  actor: string;
  at: number;
  request: string | null;
}

export interface RequestsTable {
  id: string;
  kind: string;
  gallery: string;
  image: string;
  version: string;
  target_gallery: string;
  target_image: string;
  target_channel: string | null;
  requested_by: string;
  requested_at: number;
  required: number;
  approvals: string;
  state: string;
  /** Bumped on every change: approvals compare-and-set on it. */
  revision: number;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
}

export interface AuditTable {
  id: number;
  at: number;
  actor: string;
  action: string;
  gallery: string;
  image: string | null;
  version: string | null;
  target: string | null;
  before: string | null;
  after: string | null;
}

export interface DeliveriesTable {
  id: string;
  /** The gallery whose event this is (null only for rows from before it was recorded). */
  gallery: string | null;
  webhook: string;
  event: string;
  payload: string;
  state: string;
  attempts: number;
  next_at: number;
  claimed_until: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface PolicyDecisionsTable {
  id: number;
  at: number;
  point: string;
  outcome: string;
  reference: string;
  repository: string;
  digest: string;
  /** The gallery of the repository, when it is one (who may read the entry). */
  gallery: string | null;
  user_name: string | null;
  /** JSON array of the policy names in scope. */
  policies: string;
  /** JSON array of RuleFailure. */
  failures: string;
}

/**
 * One row per version and target site: the row's existence makes the site a target. `state` is
 * pending, copying, completed, failed (retried at `next_at`) or removing (the site left the
 * targets or the version was purged; the row goes once the copy is gone from the site).
 */
export interface ReplicasTable {
  gallery: string;
  image: string;
  version: string;
  site: string;
  digest: string;
  state: string;
  /** Bytes the site lacked when the copy started, and how many of them have been sent. */
  bytes_total: number;
  bytes_done: number;
  attempts: number;
  next_at: number;
  error: string | null;
  updated_at: number;
  completed_at: number | null;
  /** At a Strata site: the source's lifecycle last mirrored there (see replicate/). */
  lifecycle: string | null;
}

/** Pulls of a version at a site, per UTC day (epoch ms of its midnight). */
export interface PullsTable {
  gallery: string;
  image: string;
  version: string;
  site: string;
  day: number;
  count: number;
  last_at: number;
}

export interface GalleryDatabase {
  gallery_galleries: GalleriesTable;
  gallery_members: MembersTable;
  gallery_images: ImagesTable;
  gallery_versions: VersionsTable;
  gallery_channels: ChannelsTable;
  gallery_channel_history: ChannelHistoryTable;
  gallery_requests: RequestsTable;
  gallery_audit: AuditTable;
  gallery_deliveries: DeliveriesTable;
  gallery_policy_decisions: PolicyDecisionsTable;
  gallery_replicas: ReplicasTable;
  gallery_pulls: PullsTable;
}
