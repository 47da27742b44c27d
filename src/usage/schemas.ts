// What the usage API takes and answers, as TypeBox schemas: the OpenAPI document and the
// generated reference are written from them, and the test suites check every answer against them.
import { Type, type TSchema } from "@sinclair/typebox";

const strict = { additionalProperties: false } as const;
const time = Type.String({ description: "RFC 3339 date-time (UTC)" });
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const bytes = (description: string) => Type.Integer({ minimum: 0, description });
const money = (description: string) => Type.Number({ minimum: 0, description });
const query = (props: Parameters<typeof Type.Object>[0]) => Type.Object(props, strict);

export const UsageQueryIn = query({
  gallery: opt(
    Type.String({
      maxLength: 64,
      description: "Only this gallery (default: every gallery the caller reads)",
    }),
  ),
  unusedDays: opt(
    Type.String({
      maxLength: 12,
      description: "Unused = not pulled for this many days (1–36500, default 30)",
    }),
  ),
  days: opt(Type.String({ maxLength: 12, description: "Days of per-day pull counts (1–3650, default 30)" })),
  local: opt(
    Type.Union([Type.Literal("true"), Type.Literal("false")], {
      description: "true: only pulls counted at this site (other Strata sites are not asked)",
    }),
  ),
});

export const CostQueryIn = query({
  gallery: opt(
    Type.String({
      maxLength: 64,
      description: "Only this gallery (default: every gallery the caller reads)",
    }),
  ),
});

export const PlanQueryIn = query({
  sites: opt(
    Type.String({
      maxLength: 2000,
      description:
        "Comma-separated site names (default: the version's targets, else its definition's replicateTo, else every configured site)",
    }),
  ),
});

const VersionKey = {
  gallery: Type.String(),
  image: Type.String(),
  version: Type.String(),
};

const Pair = Type.Object(
  {
    a: Type.String({ description: "<gallery>/<definition>" }),
    b: Type.String({ description: "<gallery>/<definition>" }),
    sharedBytes: bytes("Bytes of the digests both reach"),
    aBytes: bytes("Bytes a's versions reach"),
    bBytes: bytes("Bytes b's versions reach"),
    ratio: Type.Number({ description: "sharedBytes over the larger of aBytes and bBytes" }),
  },
  strict,
);

export const UsageReportOut = Type.Object(
  {
    site: Type.String({ description: "The answering site's name (config site.name)" }),
    at: time,
    days: Type.Integer(),
    unusedDays: Type.Integer(),
    galleries: Type.Array(Type.String()),
    sites: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          status: Type.Union([Type.Literal("ok"), Type.Literal("unavailable")]),
          reason: opt(Type.String()),
        },
        strict,
      ),
      { description: "This site, then each Strata site asked for its pulls" },
    ),
    versions: Type.Array(
      Type.Object(
        {
          ...VersionKey,
          digest: Type.String(),
          state: Type.String(),
          publishedAt: time,
          builtAt: time,
          builtFrom: Type.Union([Type.Literal("config"), Type.Literal("published")], {
            description: "config: the image config's created time; published: the publication time",
          }),
          pulls: Type.Object(
            {
              total: Type.Integer({ minimum: 0 }),
              recent: Type.Integer({ minimum: 0, description: "Pulls within the last `days`" }),
              bySite: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
              byDay: Type.Array(
                Type.Object(
                  { day: Type.String({ description: "YYYY-MM-DD (UTC)" }), count: Type.Integer() },
                  strict,
                ),
              ),
              lastPulledAt: Type.Union([time, Type.Null()]),
            },
            strict,
          ),
          bytes: Type.Object(
            {
              total: bytes("Every distinct blob the version reaches"),
              own: bytes("total − shared"),
              shared: bytes("Also reached by another version"),
            },
            strict,
          ),
        },
        strict,
      ),
    ),
    unused: Type.Array(
      Type.Object(
        { ...VersionKey, lastPulledAt: Type.Union([time, Type.Null()]), idleDays: Type.Integer() },
        strict,
      ),
    ),
    stale: Type.Array(
      Type.Object(
        {
          ...VersionKey,
          builtAt: time,
          builtFrom: Type.Union([Type.Literal("config"), Type.Literal("published")]),
          ageDays: Type.Integer(),
          rebuildDays: Type.Number(),
        },
        strict,
      ),
    ),
    sprawl: Type.Object(
      {
        sharedDefinitions: Type.Array(Pair),
        nearIdentical: Type.Array(
          Type.Object(
            {
              ...VersionKey,
              previous: Type.String(),
              sameBytes: bytes("Bytes of the digests both versions reach"),
              ratio: Type.Number({ description: "sameBytes over the larger version's bytes" }),
            },
            strict,
          ),
        ),
      },
      strict,
    ),
  },
  { ...strict, $id: "UsageReport" },
);

const GalleryStorage = Type.Object(
  {
    gallery: Type.String(),
    versions: Type.Integer(),
    bytes: bytes("Distinct blobs and manifests of the gallery's versions at the site"),
    monthly: money("bytes × storagePerGiBMonth"),
  },
  strict,
);

export const CostReportOut = Type.Object(
  {
    at: time,
    galleries: Type.Array(Type.String()),
    sites: Type.Array(
      Type.Object(
        {
          site: Type.String(),
          kind: Type.Union([Type.Literal("this"), Type.Literal("strata"), Type.Literal("registry")]),
          region: opt(Type.String()),
          storagePerGiBMonth: money("From the configuration"),
          bytes: bytes("Sum over the galleries"),
          monthly: money("bytes × storagePerGiBMonth"),
          galleries: Type.Array(GalleryStorage),
        },
        strict,
      ),
    ),
    monthly: money("Every site's monthly cost"),
  },
  { ...strict, $id: "CostReport" },
);

const Count = Type.Object(
  { blobs: Type.Integer(), manifests: Type.Integer(), bytes: bytes("Bytes of those blobs and manifests") },
  strict,
);

export const ReplicationPlanOut = Type.Object(
  {
    ...VersionKey,
    digest: Type.String(),
    total: Count,
    sites: Type.Array(
      Type.Object(
        {
          site: Type.String(),
          kind: Type.Union([Type.Literal("strata"), Type.Literal("registry")]),
          region: opt(Type.String()),
          url: Type.String(),
          repository: Type.String({ description: "Where the version would land at the site" }),
          status: Type.Union([Type.Literal("ok"), Type.Literal("unreachable")]),
          reason: opt(Type.String({ description: "Why the site could not be asked" })),
          missing: opt(Count),
          egressCost: opt(money("Once: missing bytes × egressPerGiB")),
          storageMonthlyCost: money("Every month: total bytes × storagePerGiBMonth"),
        },
        strict,
      ),
    ),
  },
  { ...strict, $id: "ReplicationPlan" },
);
