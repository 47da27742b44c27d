// What the gallery API answers, as TypeBox schemas: documented in the OpenAPI document, and
// every answer of the test suites is checked against them, so the document cannot drift.
import { Type, type TSchema } from "@sinclair/typebox";
import { KINDS, MODES, ROLES } from "../model.ts";

const strict = { additionalProperties: false } as const;
const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const time = Type.String({ description: "RFC 3339 date-time (UTC)" });
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

const Approval = Type.Object({ user: Type.String(), at: time, comment: opt(Type.String()) }, strict);

export const VersionSignaturesOut = Type.Object(
  {
    gallery: Type.String(),
    image: Type.String(),
    version: Type.String(),
    digest: Type.String(),
    trustedKeys: Type.Integer({ description: "Keys the gallery trusts; none: no signature can be valid" }),
    verified: Type.Boolean({ description: "At least one signature is valid" }),
    signatures: Type.Array(
      Type.Object(
        {
          format: literals(["bundle", "legacy"]),
          source: Type.String({ description: "The referrer's manifest digest, or the .sig tag and layer" }),
          status: literals([
            "valid",
            "untrusted-key",
            "bad-signature",
            "wrong-digest",
            "key-expired",
            "malformed",
          ]),
          valid: Type.Boolean(),
          keyId: opt(Type.String({ description: "The key that verified it, or the key it names" })),
          gallerySigningKey: opt(Type.Boolean({ description: "That key is the gallery's signing key" })),
          signedAt: opt(time),
          covers: Type.Object({ digest: opt(Type.String()), reference: opt(Type.String()) }, strict),
          problem: opt(Type.String({ description: "Why it is not valid" })),
        },
        strict,
      ),
    ),
  },
  { ...strict, $id: "VersionSignatures" },
);

export const GalleryKeysOut = Type.Object(
  {
    gallery: Type.String(),
    signs: Type.Boolean(),
    keys: Type.Array(
      Type.Object(
        {
          keyId: Type.String({ description: "sha256 of the DER public key, hex" }),
          signing: Type.Boolean(),
          notAfter: opt(time),
          expired: opt(Type.Boolean()),
          publicKey: Type.String({ description: "PEM public key" }),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const GalleryOut = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    mode: literals(MODES),
    approvals: Type.Integer(),
    restoreDays: Type.Integer(),
    members: Type.Record(Type.String(), literals(ROLES)),
    createdAt: time,
    createdBy: Type.String(),
  },
  { ...strict, $id: "Gallery" },
);

export const DefinitionOut = Type.Object(
  {
    gallery: Type.String(),
    name: Type.String(),
    repository: Type.String({ description: "<gallery>/<name>, the registry repository" }),
    kind: literals(KINDS),
    description: opt(Type.String()),
    os: opt(Type.String()),
    arch: opt(Type.String()),
    publisher: opt(Type.String()),
    owner: opt(Type.String()),
    releaseNotesUrl: opt(Type.String()),
    labels: opt(Type.Record(Type.String(), Type.String())),
    vm: opt(
      Type.Object(
        {
          generation: opt(literals(["v1", "v2"])),
          bootMode: opt(literals(["bios", "uefi"])),
          secureBoot: opt(Type.Boolean()),
          recommendedVcpus: opt(Type.Integer()),
          recommendedMemoryMiB: opt(Type.Integer()),
        },
        strict,
      ),
    ),
    replicateTo: opt(Type.Array(Type.String())),
    rebuildDays: opt(Type.Integer()),
    retention: opt(
      Type.Object(
        {
          keepLast: opt(Type.Integer()),
          deprecateAfterDays: opt(Type.Integer()),
          deleteAfterEolDays: opt(Type.Integer()),
          deleteUnusedDays: opt(Type.Integer()),
        },
        strict,
      ),
    ),
    createdAt: time,
    createdBy: Type.String(),
  },
  { ...strict, $id: "ImageDefinition" },
);

const versionFields = {
  gallery: Type.String(),
  image: Type.String(),
  version: Type.String(),
  digest: Type.String(),
  mediaType: Type.String(),
  state: literals(["published", "deprecated", "revoked", "end-of-life", "deleted"]),
  changelog: opt(Type.String()),
  buildId: opt(Type.String()),
  sourceRevision: opt(Type.String()),
  owner: opt(Type.String()),
  baseDigest: opt(Type.String({ description: "From the org.opencontainers.image.base.digest annotation" })),
  eol: opt(time),
  excludeFromLatest: Type.Boolean(),
  createdAt: time,
  publishedBy: Type.String(),
  approvals: Type.Array(Approval, { description: "Approvals that let a copy of this version in" }),
  deprecation: opt(Type.Object({ reason: Type.String(), replacement: opt(Type.String()), at: time }, strict)),
  revocation: opt(
    Type.Object(
      { reason: Type.String(), at: time, by: Type.String() },
      { ...strict, description: "at: when it takes effect" },
    ),
  ),
  deletion: opt(Type.Object({ at: time, by: Type.String(), restorableUntil: time }, strict)),
};

export const VersionOut = Type.Object(versionFields, { ...strict, $id: "ImageVersion" });

const byteCount = (description: string) => Type.Integer({ minimum: 0, description });

export const VersionBytesOut = Type.Object(
  {
    total: byteCount(
      "Sum of the sizes of every distinct blob reachable from the version's manifest: the manifest, the child manifests of an index, configs, layers, a chunked disk's chunk and index blobs",
    ),
    own: byteCount("total − shared: the bytes no other version reaches"),
    shared: byteCount(
      "The part of total also reachable from at least one other version, of any gallery and definition (copies of the same digest included, deleted versions still restorable too)",
    ),
  },
  { ...strict, $id: "VersionBytes" },
);

const count = Type.Integer({ minimum: 0 });
const VersionChangesOut = Type.Object(
  {
    against: Type.Object({ version: opt(Type.String()), digest: Type.String() }, strict),
    referrer: Type.String({ description: "The referrer holding the whole diff" }),
    packages: opt(Type.Object({ added: count, removed: count, upgraded: count, downgraded: count }, strict)),
    files: opt(Type.Object({ added: count, removed: count, changed: count }, strict)),
    config: opt(Type.Array(Type.String(), { description: "Config fields that changed" })),
  },
  strict,
);

export const ImageDiffOut = Type.Object(
  {
    schemaVersion: Type.Integer(),
    before: Type.Unknown(),
    after: Type.Unknown(),
    sameImage: Type.Boolean(),
    disk: opt(Type.Unknown()),
    packages: opt(Type.Unknown()),
    files: opt(Type.Unknown()),
    config: opt(Type.Unknown()),
  },
  { ...strict, description: "The diff's JSON as docs/diff.md describes it" },
);

export const ReplicaOut = Type.Object(
  {
    gallery: Type.String(),
    image: Type.String(),
    version: Type.String(),
    site: Type.String(),
    region: opt(Type.String()),
    digest: Type.String(),
    state: literals(["pending", "copying", "completed", "failed", "removing"]),
    bytesDone: Type.Integer({ description: "Bytes of bytesTotal sent so far" }),
    bytesTotal: Type.Integer({ description: "Bytes the site lacked when the copy started" }),
    attempts: Type.Integer(),
    error: opt(Type.String({ description: "Why the last attempt failed" })),
    nextAttemptAt: opt(time),
    updatedAt: time,
    completedAt: opt(time),
  },
  { ...strict, $id: "Replica" },
);

export const VersionDetailOut = Type.Object(
  {
    ...versionFields,
    bytes: VersionBytesOut,
    changes: opt(VersionChangesOut),
    replication: opt(Type.Array(ReplicaOut)),
  },
  { ...strict, $id: "ImageVersionDetail" },
);

export const ChannelOut = Type.Object(
  {
    gallery: Type.String(),
    image: Type.String(),
    name: Type.String(),
    version: Type.Union([Type.String(), Type.Null()]),
    restricted: Type.Boolean(),
    approvals: Type.Integer(),
    seq: Type.Integer({ description: "Number of moves so far" }),
    updatedAt: time,
    updatedBy: Type.String(),
  },
  { ...strict, $id: "Channel" },
);

export const MoveOut = Type.Object(
  {
    seq: Type.Integer(),
    version: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    action: literals(["set", "rollback", "approved"]),
    actor: Type.String(),
    at: time,
    request: opt(Type.String()),
  },
  { ...strict, $id: "ChannelMove" },
);

export const RequestOut = Type.Object(
  {
    id: Type.String(),
    kind: literals(["channel", "copy"]),
    gallery: Type.String(),
    image: Type.String(),
    version: Type.String(),
    target: Type.Object(
      { gallery: Type.String(), image: Type.String(), channel: opt(Type.String()) },
      strict,
    ),
    requestedBy: Type.String(),
    requestedAt: time,
    required: Type.Integer(),
    approvals: Type.Array(Approval),
    state: literals(["pending", "applying", "applied", "rejected", "failed"]),
    decidedBy: opt(Type.String()),
    decidedAt: opt(time),
    reason: opt(Type.String()),
  },
  { ...strict, $id: "ApprovalRequest" },
);

export const AuditOut = Type.Object(
  {
    id: Type.Integer(),
    at: time,
    actor: Type.String(),
    action: Type.String(),
    gallery: Type.String(),
    image: opt(Type.String()),
    version: opt(Type.String()),
    target: opt(Type.String()),
    before: opt(Type.Unknown()),
    after: opt(Type.Unknown()),
  },
  { ...strict, $id: "AuditEntry" },
);

export const DeliveryOut = Type.Object(
  {
    id: Type.String(),
    gallery: Type.String(),
    webhook: Type.String(),
    event: Type.String(),
    state: literals(["pending", "delivered", "failed"]),
    attempts: Type.Integer(),
    lastStatus: opt(Type.Integer()),
    lastError: opt(Type.String()),
    createdAt: time,
    deliveredAt: opt(time),
    nextAttemptAt: opt(time),
    payload: Type.Unknown(),
  },
  { ...strict, $id: "Delivery" },
);

export const MoveOutcomeOut = Type.Union(
  [
    Type.Object({ status: Type.Literal("moved"), channel: ChannelOut }, strict),
    Type.Object({ status: Type.Literal("pending"), request: RequestOut }, strict),
  ],
  { $id: "MoveOutcome" },
);

export const PromoteOutcomeOut = Type.Union(
  [
    Type.Object({ status: Type.Literal("done"), version: opt(VersionOut), channel: opt(ChannelOut) }, strict),
    Type.Object({ status: Type.Literal("pending"), request: RequestOut }, strict),
  ],
  { $id: "PromoteOutcome" },
);

export const RevokeOut = Type.Object(
  {
    revoked: Type.Array(VersionOut),
    skipped: Type.Array(
      Type.Object({ gallery: Type.String(), image: Type.String(), version: Type.String() }, strict),
    ),
  },
  { ...strict, $id: "RevokeResult" },
);

const RetentionRulesOut = Type.Object(
  {
    keepLast: opt(Type.Integer()),
    deprecateAfterDays: opt(Type.Integer()),
    deleteAfterEolDays: opt(Type.Integer()),
    deleteUnusedDays: opt(Type.Integer()),
  },
  strict,
);
const retentionRule = literals(["keepLast", "deprecateAfterDays", "deleteAfterEolDays", "deleteUnusedDays"]);

export const RetentionRunOut = Type.Object(
  {
    dryRun: Type.Boolean(),
    definitions: Type.Array(
      Type.Object(
        {
          gallery: Type.String(),
          image: Type.String(),
          rules: RetentionRulesOut,
          actions: Type.Array(
            Type.Object(
              {
                version: Type.String(),
                action: literals(["deprecate", "delete"]),
                rule: retentionRule,
                reason: Type.String(),
                status: literals(["planned", "applied", "skipped", "failed"]),
                error: opt(Type.String({ description: "Why it was skipped or failed" })),
              },
              strict,
            ),
            { description: "Highest version first" },
          ),
          held: Type.Array(
            Type.Object(
              {
                version: Type.String(),
                action: literals(["deprecate", "delete"]),
                rule: retentionRule,
                reason: Type.String({ description: "What protects the version" }),
              },
              strict,
            ),
            { description: "Versions a rule matched that a protection keeps" },
          ),
          notes: Type.Array(Type.String(), { description: "Rules that could not be applied, and why" }),
          error: opt(
            Type.String({
              description: "Why the definition's retention could not run (invalid stored rules)",
            }),
          ),
        },
        strict,
      ),
    ),
  },
  { ...strict, $id: "RetentionRun" },
);

export const WhoamiOut = Type.Object(
  {
    user: Type.Union([Type.String(), Type.Null()]),
    authentication: Type.Boolean(),
    anonymous: literals(["none", "read"]),
  },
  { ...strict, $id: "Whoami" },
);

const RuleFailureOut = Type.Object(
  {
    policy: Type.String(),
    mode: literals(["audit", "warn", "enforce"]),
    rule: Type.String(),
    reason: Type.String(),
  },
  strict,
);

export const PolicySpecOut = Type.Object(
  {
    name: Type.String(),
    description: opt(Type.String()),
    mode: opt(literals(["audit", "warn", "enforce"])),
    scope: opt(
      Type.Object(
        {
          repositories: opt(Type.Array(Type.String())),
          galleries: opt(Type.Array(Type.String())),
          namespaces: opt(Type.Array(Type.String())),
        },
        strict,
      ),
    ),
    points: opt(Type.Array(literals(["pull", "run", "admission", "check"]))),
    rules: Type.Record(Type.String(), Type.Unknown(), { description: "The rules as configured" }),
  },
  { ...strict, $id: "Policy" },
);

export const PolicyDecisionOut = Type.Object(
  {
    id: Type.Integer(),
    at: time,
    point: literals(["pull", "run", "admission", "check"]),
    outcome: literals(["allow", "warn", "deny"]),
    reference: Type.String(),
    repository: Type.String(),
    digest: Type.String({ description: "Empty for an image this server does not hold" }),
    gallery: Type.Union([Type.String(), Type.Null()]),
    user: Type.Union([Type.String(), Type.Null()]),
    failures: Type.Array(RuleFailureOut),
  },
  { ...strict, $id: "PolicyDecision" },
);

export const PolicyCheckOut = Type.Object(
  {
    results: Type.Array(
      Type.Object(
        {
          reference: Type.String(),
          outcome: literals(["allow", "warn", "deny"]),
          digest: opt(Type.String()),
          reasons: Type.Array(Type.String(), {
            description: "The failures that make the outcome (enforce ones for deny, warn ones for warn)",
          }),
          failures: Type.Array(RuleFailureOut, { description: "Every failed rule, audit ones included" }),
        },
        strict,
      ),
    ),
  },
  strict,
);
