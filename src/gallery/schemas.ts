// Request bodies of the gallery API as TypeBox schemas: one source for validation (unknown
// fields, types, lengths), the TypeScript types of the service inputs and the OpenAPI document.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { KINDS, MODES, ROLES } from "./model.ts";

const strict = { additionalProperties: false } as const;
const text = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description === undefined ? {} : { description }) });
const union = <T extends readonly string[]>(values: T, description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  ) as unknown as TSchema & { static: T[number] };

export const RoleSchema = union(
  ROLES,
  "reader < publisher < approver < admin; each includes the ones before",
);
export const ModeSchema = union(
  MODES,
  "What pulls of revoked or end-of-life versions get: DENIED, a warning, or nothing",
);
/** A date (YYYY-MM-DD, midnight UTC) or an RFC 3339 date-time. */
export const DateSchema = Type.String({
  maxLength: 40,
  description: "A date (2027-06-30) or an RFC 3339 date-time (2027-06-30T12:00:00Z)",
});

export const GalleryCreate = Type.Object(
  {
    name: text(64, "One registry path component: lowercase letters, digits, '.', '_' or '-'"),
    description: Type.Optional(text(1000)),
    mode: Type.Optional(ModeSchema),
    approvals: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10, description: "Approvals a copy into this gallery needs" }),
    ),
    restoreDays: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3650, description: "Days a deleted version stays restorable" }),
    ),
    members: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), RoleSchema, { maxProperties: 200 })),
  },
  strict,
);
export type GalleryCreate = Static<typeof GalleryCreate>;

export const GalleryUpdate = Type.Object(
  {
    description: Type.Optional(text(1000)),
    mode: Type.Optional(ModeSchema),
    approvals: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    restoreDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
  },
  strict,
);
export type GalleryUpdate = Static<typeof GalleryUpdate>;

export const MemberSet = Type.Object({ role: RoleSchema }, strict);
export type MemberSet = Static<typeof MemberSet>;

const Labels = Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 }), {
  maxProperties: 64,
});
export const VmSchema = Type.Object(
  {
    generation: Type.Optional(union(["v1", "v2"] as const, "Hypervisor generation")),
    bootMode: Type.Optional(union(["bios", "uefi"] as const, "Firmware")),
    secureBoot: Type.Optional(Type.Boolean()),
    recommendedVcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    recommendedMemoryMiB: Type.Optional(Type.Integer({ minimum: 64, maximum: 16 * 1024 * 1024 })),
  },
  strict,
);

const days = (minimum: number, description: string) =>
  Type.Optional(Type.Integer({ minimum, maximum: 36500, description }));
// Retention rules (retention.ts). 0 days is allowed only for the EOL grace: deprecating at
// publication or deleting whatever was not pulled today is a mistake, not a rule.
export const RetentionSchema = Type.Object(
  {
    keepLast: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, description: "Newest published versions kept" }),
    ),
    deprecateAfterDays: days(1, "Deprecate this long after publication"),
    deleteAfterEolDays: days(0, "Delete this long after end of life"),
    deleteUnusedDays: days(1, "Delete when not pulled this long"),
  },
  strict,
);

const definitionFields = {
  description: Type.Optional(text(4000)),
  os: Type.Optional(text(64, "e.g. linux")),
  arch: Type.Optional(text(64, "e.g. amd64")),
  publisher: Type.Optional(text(256)),
  owner: Type.Optional(text(256)),
  releaseNotesUrl: Type.Optional(Type.String({ maxLength: 2048, pattern: "^https?://" })),
  labels: Type.Optional(Labels),
  vm: Type.Optional(VmSchema),
  replicateTo: Type.Optional(
    Type.Array(text(64, "A site name of the server's configuration"), { maxItems: 64, uniqueItems: true }),
  ),
  rebuildDays: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 36500, description: "Stale after this many days" }),
  ),
  retention: Type.Optional(RetentionSchema),
};

export const ImageDefine = Type.Object(
  {
    name: text(64, "One registry path component"),
    kind: union(KINDS, "container or vm"),
    ...definitionFields,
  },
  strict,
);
export type ImageDefine = Static<typeof ImageDefine>;

export const ImageUpdate = Type.Object(definitionFields, strict);
export type ImageUpdate = Static<typeof ImageUpdate>;

export const VersionPublish = Type.Object(
  {
    version: text(32, "Major.Minor.Patch"),
    from: text(
      600,
      "The content: a repository of this registry with a tag or digest, or a gallery reference",
    ),
    changelog: Type.Optional(text(65536)),
    buildId: Type.Optional(text(256)),
    sourceRevision: Type.Optional(text(256)),
    owner: Type.Optional(text(256)),
    eol: Type.Optional(DateSchema),
    excludeFromLatest: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type VersionPublish = Static<typeof VersionPublish>;

export const VersionUpdate = Type.Object(
  {
    eol: Type.Optional(Type.Union([DateSchema, Type.Null()])),
    excludeFromLatest: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type VersionUpdate = Static<typeof VersionUpdate>;

export const Deprecate = Type.Object(
  {
    reason: Type.Optional(text(1000)),
    replacement: Type.Optional(text(32, "A version of the same definition")),
  },
  strict,
);
export type Deprecate = Static<typeof Deprecate>;

export const Revoke = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    at: Type.Optional(DateSchema),
    cascade: Type.Optional(
      Type.Boolean({
        description: "Also revoke versions built on this one (org.opencontainers.image.base.digest)",
      }),
    ),
  },
  strict,
);
export type Revoke = Static<typeof Revoke>;

export const ChannelSet = Type.Object(
  {
    version: text(32, 'Major.Minor.Patch, or "latest" for the current latest'),
    restricted: Type.Optional(
      Type.Boolean({ description: "Moves of a restricted channel need approval (admin only)" }),
    ),
    approvals: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  },
  strict,
);
export type ChannelSet = Static<typeof ChannelSet>;

export const ChannelRollback = Type.Object(
  { to: Type.Optional(text(32, "A version the channel pointed at before; default the previous one")) },
  strict,
);
export type ChannelRollback = Static<typeof ChannelRollback>;

export const Promote = Type.Object(
  {
    gallery: text(64),
    image: text(64),
    version: text(32),
    channel: Type.Optional(text(63, "Point this channel at the version")),
    toGallery: Type.Optional(text(64, "Copy the version into this gallery (same definition name)")),
  },
  strict,
);
export type Promote = Static<typeof Promote>;

export const Decision = Type.Object({ comment: Type.Optional(text(1000)) }, strict);
export type Decision = Static<typeof Decision>;

export const ReplicationSet = Type.Object(
  {
    sites: Type.Array(text(64, "A site name of the server's configuration"), {
      maxItems: 64,
      uniqueItems: true,
      description: "The version's target sites; an empty list removes every copy",
    }),
  },
  strict,
);
export type ReplicationSet = Static<typeof ReplicationSet>;
