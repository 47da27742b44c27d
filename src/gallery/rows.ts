// Rows of the gallery tables turned into the model the API returns.
import type {
  AuditTable,
  ChannelHistoryTable,
  ChannelsTable,
  GalleriesTable,
  ImagesTable,
  RequestsTable,
  VersionsTable,
} from "./db/schema.ts";
import { iso } from "./context.ts";
import { effectiveState } from "./lifecycle.ts";
import type {
  Approval,
  ApprovalRequest,
  AuditEntry,
  Channel,
  ChannelMove,
  DefinitionMetadata,
  EnforcementMode,
  Gallery,
  ImageDefinition,
  ImageKind,
  ImageVersion,
  RequestKind,
  RequestState,
  Role,
  StoredState,
} from "./model.ts";

const DAY = 86_400_000;

export function toGallery(
  row: GalleriesTable,
  members: readonly { user_name: string; role: string }[],
): Gallery {
  return {
    name: row.name,
    description: row.description,
    mode: row.mode as EnforcementMode,
    approvals: row.approvals,
    restoreDays: row.restore_days,
    members: Object.fromEntries(members.map((m) => [m.user_name, m.role as Role])),
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
  };
}

export function toDefinition(row: ImagesTable): ImageDefinition {
  const metadata = JSON.parse(row.metadata) as DefinitionMetadata;
  return {
    gallery: row.gallery,
    name: row.name,
    repository: `${row.gallery}/${row.name}`,
    kind: row.kind as ImageKind,
    ...metadata,
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
  };
}

interface VersionMetadata {
  changelog?: string;
  buildId?: string;
  sourceRevision?: string;
  owner?: string;
}

export function toVersion(row: VersionsTable, now: number, restoreDays: number): ImageVersion {
  const metadata = JSON.parse(row.metadata) as VersionMetadata;
  const state = effectiveState(
    { storedState: row.state as StoredState, eol: row.eol, revokeAt: row.revoke_at },
    now,
  );
  const deprecation =
    row.deprecation === null ? undefined : (JSON.parse(row.deprecation) as ImageVersion["deprecation"]);
  const revoked = row.revoke_at !== null && row.revoke_reason !== null;
  return {
    gallery: row.gallery,
    image: row.image,
    version: row.version,
    digest: row.digest,
    mediaType: row.media_type,
    state,
    ...metadata,
    ...(row.base_digest === null ? {} : { baseDigest: row.base_digest }),
    ...(row.eol === null ? {} : { eol: iso(row.eol) }),
    excludeFromLatest: row.exclude_from_latest !== 0,
    createdAt: iso(row.created_at),
    publishedBy: row.published_by,
    approvals: JSON.parse(row.approvals) as Approval[],
    ...(deprecation === undefined ? {} : { deprecation }),
    ...(revoked
      ? {
          revocation: {
            reason: row.revoke_reason ?? "",
            at: iso(row.revoke_at ?? 0),
            by: row.revoked_by ?? "",
          },
        }
      : {}),
    ...(row.deleted_at === null
      ? {}
      : {
          deletion: {
            at: iso(row.deleted_at),
            by: row.deleted_by ?? "",
            restorableUntil: iso(row.deleted_at + restoreDays * DAY),
          },
        }),
  };
}

export function toChannel(row: ChannelsTable): Channel {
  return {
    gallery: row.gallery,
    image: row.image,
    name: row.name,
    version: row.version,
    restricted: row.restricted !== 0,
    approvals: row.approvals,
    seq: row.seq,
    updatedAt: iso(row.updated_at),
    updatedBy: row.updated_by,
  };
}

export function toMove(row: ChannelHistoryTable): ChannelMove {
  return {
    seq: row.seq,
    version: row.version,
    previous: row.previous,
    action: row.action as ChannelMove["action"],
    actor: row.actor,
    at: iso(row.at),
    ...(row.request === null ? {} : { request: row.request }),
  };
}

export function toRequest(row: RequestsTable): ApprovalRequest {
  return {
    id: row.id,
    kind: row.kind as RequestKind,
    gallery: row.gallery,
    image: row.image,
    version: row.version,
    target: {
      gallery: row.target_gallery,
      image: row.target_image,
      ...(row.target_channel === null ? {} : { channel: row.target_channel }),
    },
    requestedBy: row.requested_by,
    requestedAt: iso(row.requested_at),
    required: row.required,
    approvals: JSON.parse(row.approvals) as Approval[],
    state: row.state as RequestState,
    ...(row.decided_by === null ? {} : { decidedBy: row.decided_by }),
    ...(row.decided_at === null ? {} : { decidedAt: iso(row.decided_at) }),
    ...(row.reason === null ? {} : { reason: row.reason }),
  };
}

export function toAudit(row: AuditTable): AuditEntry {
  return {
    id: Number(row.id),
    at: iso(row.at),
    actor: row.actor,
    action: row.action,
    gallery: row.gallery,
    ...(row.image === null ? {} : { image: row.image }),
    ...(row.version === null ? {} : { version: row.version }),
    ...(row.target === null ? {} : { target: row.target }),
    ...(row.before === null ? {} : { before: JSON.parse(row.before) as unknown }),
    ...(row.after === null ? {} : { after: JSON.parse(row.after) as unknown }),
  };
}
