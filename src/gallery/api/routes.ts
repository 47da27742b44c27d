// The gallery API under /api/v1, as a table.
import { Type } from "@sinclair/typebox";
import {
  ChannelRollback,
  ChannelSet,
  Decision,
  Deprecate,
  GalleryCreate,
  GalleryUpdate,
  ImageDefine,
  ImageUpdate,
  MemberSet,
  Promote,
  ReplicationSet,
  Revoke,
  VersionPublish,
  VersionUpdate,
} from "../schemas.ts";
import {
  AuditOut,
  ChannelOut,
  DefinitionOut,
  DeliveryOut,
  GalleryKeysOut,
  GalleryOut,
  ImageDiffOut,
  MoveOut,
  MoveOutcomeOut,
  PolicyCheckOut,
  PolicyDecisionOut,
  PolicySpecOut,
  PromoteOutcomeOut,
  ReplicaOut,
  RequestOut,
  RetentionRunOut,
  RevokeOut,
  VersionDetailOut,
  VersionOut,
  VersionSignaturesOut,
  WhoamiOut,
} from "./responses.ts";
import { SearchOut, VersionPageOut } from "./page-responses.ts";
import { ok, type ApiRequest, type ApiRoute } from "./route.ts";

const G = "/galleries/:gallery";
const I = `${G}/images/:image`;
const V = `${I}/versions/:version`;
const C = `${I}/channels/:channel`;

const strictQuery = (props: Parameters<typeof Type.Object>[0]) =>
  Type.Object(props, { additionalProperties: false });
const NoQuery = strictQuery({});
const bool = Type.Union([Type.Literal("true"), Type.Literal("false")]);

const p = (req: ApiRequest, name: string): string => req.params[name] ?? "";
const version = (req: ApiRequest) => ({
  gallery: p(req, "gallery"),
  image: p(req, "image"),
  version: p(req, "version"),
});
const channel = (req: ApiRequest) => ({
  gallery: p(req, "gallery"),
  image: p(req, "image"),
  channel: p(req, "channel"),
});
const moved = (outcome: { status: string }) => ({
  status: outcome.status === "pending" ? 202 : 200,
  body: outcome,
});

export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/whoami",
    operationId: "whoami",
    anonymous: true,
    response: WhoamiOut,
    summary:
      "The caller's user name (null when anonymous), whether authentication is on, and what anonymous callers may do",
    tag: "session",
    query: NoQuery,
    responses: { 200: "The caller" },
    handler: async (s, req) =>
      ok({
        user: req.actor.user ?? null,
        authentication: s.authEnabled,
        anonymous: s.anonymousRead ? "read" : "none",
      }),
  },
  {
    method: "GET",
    path: "/galleries",
    operationId: "listGalleries",
    anonymous: true,
    response: Type.Array(GalleryOut),
    summary: "Galleries the caller is a member of (all when authentication is off)",
    tag: "galleries",
    query: NoQuery,
    responses: { 200: "Galleries" },
    handler: async (s, req) => ok(await s.galleries.list(req.actor)),
  },
  {
    method: "POST",
    path: "/galleries",
    operationId: "createGallery",
    response: GalleryOut,
    summary: "Creates a gallery; the caller becomes its admin",
    tag: "galleries",
    query: NoQuery,
    body: GalleryCreate,
    responses: { 201: "The new gallery", 409: "The name is taken" },
    handler: async (s, req) => ({
      status: 201,
      body: await s.galleries.create(req.actor, req.body as GalleryCreate),
    }),
  },
  {
    method: "GET",
    path: G,
    operationId: "getGallery",
    anonymous: true,
    response: GalleryOut,
    summary: "A gallery with its members and settings",
    tag: "galleries",
    query: NoQuery,
    responses: { 200: "The gallery" },
    handler: async (s, req) => ok(await s.galleries.get(req.actor, p(req, "gallery"))),
  },
  {
    method: "GET",
    path: `${G}/keys`,
    operationId: "getGalleryKeys",
    anonymous: true,
    response: GalleryKeysOut,
    summary: "The public keys a gallery trusts and whether it signs the versions it receives",
    tag: "galleries",
    query: NoQuery,
    responses: { 200: "The gallery's keys" },
    handler: async (s, req) => ok(await s.galleries.keys(req.actor, p(req, "gallery"))),
  },
  {
    method: "PATCH",
    path: G,
    operationId: "updateGallery",
    response: GalleryOut,
    summary: "Changes a gallery's description, enforcement mode, copy approvals or restore window (admin)",
    tag: "galleries",
    query: NoQuery,
    body: GalleryUpdate,
    responses: { 200: "The gallery after the change" },
    handler: async (s, req) =>
      ok(await s.galleries.update(req.actor, p(req, "gallery"), req.body as GalleryUpdate)),
  },
  {
    method: "DELETE",
    path: G,
    operationId: "removeGallery",
    response: GalleryOut,
    summary: "Removes a gallery without image definitions (admin); its audit log is kept",
    tag: "galleries",
    query: NoQuery,
    responses: { 200: "The removed gallery", 409: "It still has image definitions" },
    handler: async (s, req) => ok(await s.galleries.remove(req.actor, p(req, "gallery"))),
  },
  {
    method: "PUT",
    path: `${G}/members/:user`,
    operationId: "setMember",
    response: GalleryOut,
    summary: "Gives a user a role in the gallery (admin)",
    tag: "galleries",
    query: NoQuery,
    body: MemberSet,
    responses: { 200: "The gallery after the change" },
    handler: async (s, req) =>
      ok(
        await s.galleries.setMember(
          req.actor,
          p(req, "gallery"),
          p(req, "user"),
          (req.body as MemberSet).role,
        ),
      ),
  },
  {
    method: "DELETE",
    path: `${G}/members/:user`,
    operationId: "removeMember",
    response: GalleryOut,
    summary: "Removes a user from the gallery (admin)",
    tag: "galleries",
    query: NoQuery,
    responses: { 200: "The gallery after the change" },
    handler: async (s, req) =>
      ok(await s.galleries.setMember(req.actor, p(req, "gallery"), p(req, "user"), undefined)),
  },
  {
    method: "GET",
    path: `${G}/images`,
    operationId: "listImages",
    anonymous: true,
    response: Type.Array(DefinitionOut),
    summary: "Image definitions of a gallery",
    tag: "images",
    query: NoQuery,
    responses: { 200: "Definitions" },
    handler: async (s, req) => ok(await s.images.list(req.actor, p(req, "gallery"))),
  },
  {
    method: "POST",
    path: `${G}/images`,
    operationId: "defineImage",
    response: DefinitionOut,
    summary: "Defines an image (publisher)",
    tag: "images",
    query: NoQuery,
    body: ImageDefine,
    responses: { 201: "The new definition", 409: "The name is taken" },
    handler: async (s, req) => ({
      status: 201,
      body: await s.images.define(req.actor, p(req, "gallery"), req.body as ImageDefine),
    }),
  },
  {
    method: "GET",
    path: I,
    operationId: "getImage",
    anonymous: true,
    response: DefinitionOut,
    summary: "An image definition",
    tag: "images",
    query: NoQuery,
    responses: { 200: "The definition" },
    handler: async (s, req) => ok(await s.images.get(req.actor, p(req, "gallery"), p(req, "image"))),
  },
  {
    method: "PATCH",
    path: I,
    operationId: "updateImage",
    response: DefinitionOut,
    summary: "Changes a definition's metadata (publisher); kind and name stay",
    tag: "images",
    query: NoQuery,
    body: ImageUpdate,
    responses: { 200: "The definition after the change" },
    handler: async (s, req) =>
      ok(await s.images.update(req.actor, p(req, "gallery"), p(req, "image"), req.body as ImageUpdate)),
  },
  {
    method: "DELETE",
    path: I,
    operationId: "removeImage",
    response: DefinitionOut,
    summary: "Removes a definition without versions, deleted ones included (admin)",
    tag: "images",
    query: NoQuery,
    responses: { 200: "The removed definition", 409: "It still has versions" },
    handler: async (s, req) => ok(await s.images.remove(req.actor, p(req, "gallery"), p(req, "image"))),
  },
  {
    method: "GET",
    path: `${I}/versions`,
    operationId: "listVersions",
    anonymous: true,
    response: Type.Union([Type.Array(VersionOut), VersionPageOut]),
    summary:
      "Versions of a definition, highest first; deleted ones with ?deleted=true. With any of limit, after, before, state or prefix: one page (default 50, at most 500) with the total, the page's offset and the cursors either side, paged by version number",
    tag: "versions",
    query: strictQuery({
      deleted: Type.Optional(bool),
      limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
      after: Type.Optional(Type.String({ maxLength: 32, description: "Versions below this number" })),
      before: Type.Optional(Type.String({ maxLength: 32, description: "Versions above this number" })),
      state: Type.Optional(Type.String({ maxLength: 16, description: "The state at this moment" })),
      prefix: Type.Optional(Type.String({ maxLength: 32, description: "The number starts with this" })),
    }),
    responses: { 200: "Versions (an array), or a page of them" },
    handler: async (s, req) => {
      const qy = req.query;
      const gallery = p(req, "gallery");
      const image = p(req, "image");
      const includeDeleted = qy.deleted === "true";
      if ([qy.limit, qy.after, qy.before, qy.state, qy.prefix].every((v) => v === undefined))
        return ok(await s.versions.list(req.actor, gallery, image, { includeDeleted }));
      return ok(
        await s.versions.page(req.actor, gallery, image, {
          includeDeleted,
          ...(qy.limit === undefined ? {} : { limit: Number(qy.limit) }),
          ...(qy.after === undefined ? {} : { after: qy.after }),
          ...(qy.before === undefined ? {} : { before: qy.before }),
          ...(qy.state === undefined ? {} : { state: qy.state }),
          ...(qy.prefix === undefined ? {} : { prefix: qy.prefix }),
        }),
      );
    },
  },
  {
    method: "POST",
    path: `${I}/versions`,
    operationId: "publishVersion",
    response: VersionOut,
    summary:
      "Publishes a version pinning the manifest or index `from` names (publisher); the same number with the same content is a no-op",
    tag: "versions",
    query: NoQuery,
    body: VersionPublish,
    responses: {
      201: "Published",
      200: "Already published with this content",
      409: "The number is taken by other content",
    },
    handler: async (s, req) => {
      const result = await s.versions.publish(
        req.actor,
        p(req, "gallery"),
        p(req, "image"),
        req.body as VersionPublish,
      );
      return { status: result.created ? 201 : 200, body: result.version };
    },
  },
  {
    method: "GET",
    path: `${I}/latest`,
    operationId: "latestVersion",
    anonymous: true,
    response: VersionOut,
    summary: "The highest published version not excluded, deprecated, revoked or past its EOL",
    tag: "versions",
    query: NoQuery,
    responses: { 200: "The latest version", 404: "None qualifies" },
    handler: async (s, req) => ok(await s.versions.latest(req.actor, p(req, "gallery"), p(req, "image"))),
  },
  {
    method: "GET",
    path: V,
    operationId: "getVersion",
    anonymous: true,
    response: VersionDetailOut,
    summary: "A version, with its bytes: total, own, and shared with other versions",
    tag: "versions",
    query: NoQuery,
    responses: { 200: "The version" },
    handler: async (s, req) =>
      ok(await s.versions.get(req.actor, p(req, "gallery"), p(req, "image"), p(req, "version"))),
  },
  {
    method: "GET",
    path: `${V}/changes`,
    operationId: "getVersionChanges",
    anonymous: true,
    response: ImageDiffOut,
    summary:
      "What changed since the previous version (packages, files, config), computed when the version was published",
    tag: "versions",
    query: NoQuery,
    responses: { 200: "The diff", 404: "No changes were computed (e.g. the first version)" },
    handler: async (s, req) =>
      ok(await s.versions.changes(req.actor, p(req, "gallery"), p(req, "image"), p(req, "version"))),
  },
  {
    method: "GET",
    path: `${V}/signatures`,
    operationId: "getVersionSignatures",
    anonymous: true,
    response: VersionSignaturesOut,
    summary: "A version's signatures, each verified against the gallery's trusted keys (readers)",
    tag: "versions",
    query: NoQuery,
    responses: { 200: "Each signature with its status and, when not valid, the reason" },
    handler: async (s, req) => ok(await s.signatures.check(req.actor, version(req))),
  },
  {
    method: "PATCH",
    path: V,
    operationId: "updateVersion",
    response: VersionOut,
    summary:
      "Changes a version's EOL date or exclude-from-latest (publisher); nothing else changes after publishing",
    tag: "versions",
    query: NoQuery,
    body: VersionUpdate,
    responses: { 200: "The version after the change" },
    handler: async (s, req) =>
      ok(await s.versions.update(req.actor, version(req), req.body as VersionUpdate)),
  },
  {
    method: "POST",
    path: `${V}/deprecate`,
    operationId: "deprecateVersion",
    response: VersionOut,
    summary: "Deprecates a published version; pulls then carry a warning naming the replacement",
    tag: "versions",
    query: NoQuery,
    body: Deprecate,
    responses: { 200: "The version after the change" },
    handler: async (s, req) => ok(await s.versions.deprecate(req.actor, version(req), req.body as Deprecate)),
  },
  {
    method: "POST",
    path: `${V}/revoke`,
    operationId: "revokeVersion",
    response: RevokeOut,
    summary: "Revokes a version now or at a date, optionally cascading to versions built on it",
    tag: "versions",
    query: NoQuery,
    body: Revoke,
    responses: { 200: "The versions revoked and those skipped" },
    handler: async (s, req) => ok(await s.versions.revoke(req.actor, version(req), req.body as Revoke)),
  },
  {
    method: "POST",
    path: `${V}/restore`,
    operationId: "restoreVersion",
    response: VersionOut,
    summary: "Restores a deleted version within the gallery's restore window",
    tag: "versions",
    query: NoQuery,
    body: Type.Object({}, { additionalProperties: false }),
    responses: { 200: "The version after the change" },
    handler: async (s, req) => ok(await s.versions.restore(req.actor, version(req))),
  },
  {
    method: "DELETE",
    path: V,
    operationId: "deleteVersion",
    response: VersionOut,
    summary: "Soft-deletes a version past its EOL; before it only an admin with ?force=true",
    tag: "versions",
    query: strictQuery({ force: Type.Optional(bool) }),
    responses: { 200: "The version after the change" },
    handler: async (s, req) =>
      ok(await s.versions.delete(req.actor, version(req), { force: req.query.force === "true" })),
  },
  {
    method: "POST",
    path: `${I}/retention`,
    operationId: "runImageRetention",
    response: RetentionRunOut,
    summary:
      "Applies the definition's retention rules now (publisher), or with ?dryRun=true lists what they would do (reader)",
    tag: "versions",
    query: strictQuery({ dryRun: Type.Optional(bool) }),
    body: Type.Object({}, { additionalProperties: false }),
    responses: { 200: "The actions planned or applied, and the versions protections keep" },
    handler: async (s, req) =>
      ok(
        await s.retention.run(req.actor, p(req, "gallery"), p(req, "image"), {
          dryRun: req.query.dryRun === "true",
        }),
      ),
  },
  {
    method: "POST",
    path: `${G}/retention`,
    operationId: "runGalleryRetention",
    response: RetentionRunOut,
    summary:
      "Applies the retention rules of every definition of the gallery that has them (publisher), or with ?dryRun=true lists what they would do (reader)",
    tag: "versions",
    query: strictQuery({ dryRun: Type.Optional(bool) }),
    body: Type.Object({}, { additionalProperties: false }),
    responses: { 200: "The actions planned or applied per definition" },
    handler: async (s, req) =>
      ok(
        await s.retention.run(req.actor, p(req, "gallery"), undefined, {
          dryRun: req.query.dryRun === "true",
        }),
      ),
  },
  {
    method: "GET",
    path: `${V}/replication`,
    operationId: "getReplication",
    anonymous: true,
    response: Type.Array(ReplicaOut),
    summary: "The version's copies at its target sites: state, bytes sent of those missing, errors",
    tag: "replication",
    query: NoQuery,
    responses: { 200: "One entry per target site" },
    handler: async (s, req) => ok(await s.replication.status(req.actor, version(req))),
  },
  {
    method: "PUT",
    path: `${V}/replication`,
    operationId: "setReplication",
    response: Type.Array(ReplicaOut),
    summary: "Sets the version's target sites; dropped sites have their copy removed",
    tag: "replication",
    query: NoQuery,
    body: ReplicationSet,
    responses: { 200: "The copies after the change" },
    handler: async (s, req) =>
      ok(await s.replication.set(req.actor, version(req), (req.body as ReplicationSet).sites)),
  },
  {
    method: "GET",
    path: `${I}/channels`,
    operationId: "listChannels",
    anonymous: true,
    response: Type.Array(ChannelOut),
    summary: "Channels of a definition",
    tag: "channels",
    query: NoQuery,
    responses: { 200: "Channels" },
    handler: async (s, req) => ok(await s.channels.list(req.actor, p(req, "gallery"), p(req, "image"))),
  },
  {
    method: "GET",
    path: C,
    operationId: "getChannel",
    anonymous: true,
    response: ChannelOut,
    summary: "A channel",
    tag: "channels",
    query: NoQuery,
    responses: { 200: "The channel" },
    handler: async (s, req) => ok(await s.channels.get(req.actor, channel(req))),
  },
  {
    method: "PUT",
    path: C,
    operationId: "setChannel",
    response: MoveOutcomeOut,
    summary:
      "Points a channel at a version (creating it); a restricted channel answers 202 with an approval request",
    tag: "channels",
    query: NoQuery,
    body: ChannelSet,
    responses: { 200: "Moved", 202: "Approval requested" },
    handler: async (s, req) => moved(await s.channels.set(req.actor, channel(req), req.body as ChannelSet)),
  },
  {
    method: "GET",
    path: `${C}/history`,
    operationId: "channelHistory",
    anonymous: true,
    response: Type.Array(MoveOut),
    summary: "Every move of a channel, newest first",
    tag: "channels",
    query: NoQuery,
    responses: { 200: "Moves" },
    handler: async (s, req) => ok(await s.channels.history(req.actor, channel(req))),
  },
  {
    method: "POST",
    path: `${C}/rollback`,
    operationId: "rollbackChannel",
    response: MoveOutcomeOut,
    summary: "Points a channel back at its previous version (or `to`)",
    tag: "channels",
    query: NoQuery,
    body: ChannelRollback,
    responses: { 200: "Moved", 202: "Approval requested" },
    handler: async (s, req) =>
      moved(await s.channels.rollback(req.actor, channel(req), req.body as ChannelRollback)),
  },
  {
    method: "POST",
    path: "/promotions",
    operationId: "promote",
    response: PromoteOutcomeOut,
    summary:
      "Moves a version to a channel and/or copies it into another gallery; answers 202 when approval is needed",
    tag: "promotion",
    query: NoQuery,
    body: Promote,
    responses: { 200: "Done", 202: "Approval requested" },
    handler: async (s, req) => {
      const outcome = await s.promote(req.actor, req.body as Promote);
      return { status: outcome.status === "pending" ? 202 : 200, body: outcome };
    },
  },
  {
    method: "GET",
    path: "/requests",
    operationId: "listRequests",
    response: Type.Array(RequestOut),
    summary: "Approval requests the caller can see, newest first",
    tag: "promotion",
    query: strictQuery({
      gallery: Type.Optional(Type.String({ maxLength: 64 })),
      state: Type.Optional(
        Type.Union(["pending", "applied", "rejected", "failed"].map((v) => Type.Literal(v))),
      ),
    }),
    responses: { 200: "Requests" },
    handler: async (s, req) =>
      ok(
        await s.requests.list(req.actor, {
          ...(req.query.gallery ? { gallery: req.query.gallery } : {}),
          ...(req.query.state ? { state: req.query.state } : {}),
        }),
      ),
  },
  {
    method: "GET",
    path: "/requests/:id",
    operationId: "getRequest",
    response: RequestOut,
    summary: "An approval request",
    tag: "promotion",
    query: NoQuery,
    responses: { 200: "The request" },
    handler: async (s, req) => ok(await s.requests.get(req.actor, p(req, "id"))),
  },
  {
    method: "POST",
    path: "/requests/:id/approve",
    operationId: "approveRequest",
    response: RequestOut,
    summary: "Approves a request (approver, not the requester); the last needed approval applies it",
    tag: "promotion",
    query: NoQuery,
    body: Decision,
    responses: { 200: "The request after the approval" },
    handler: async (s, req) =>
      ok(await s.requests.approve(req.actor, p(req, "id"), (req.body as Decision).comment)),
  },
  {
    method: "POST",
    path: "/requests/:id/reject",
    operationId: "rejectRequest",
    response: RequestOut,
    summary: "Rejects a request (approver), or withdraws it (requester)",
    tag: "promotion",
    query: NoQuery,
    body: Decision,
    responses: { 200: "The request after the rejection" },
    handler: async (s, req) =>
      ok(await s.requests.reject(req.actor, p(req, "id"), (req.body as Decision).comment)),
  },
  {
    method: "GET",
    path: `${G}/audit`,
    operationId: "queryAudit",
    response: Type.Array(AuditOut),
    summary:
      "The gallery's audit log, newest first, paged by entry id (`before` the last id for older entries, `after` the first for newer ones); every filter is answered from an index",
    tag: "audit",
    query: strictQuery({
      image: Type.Optional(Type.String({ maxLength: 64 })),
      version: Type.Optional(Type.String({ maxLength: 32 })),
      actor: Type.Optional(Type.String({ maxLength: 128 })),
      action: Type.Optional(Type.String({ maxLength: 64 })),
      since: Type.Optional(Type.String({ maxLength: 40 })),
      until: Type.Optional(Type.String({ maxLength: 40 })),
      before: Type.Optional(
        Type.String({ pattern: "^[0-9]{1,15}$", description: "Entries older than this id" }),
      ),
      after: Type.Optional(
        Type.String({ pattern: "^[0-9]{1,15}$", description: "Entries newer than this id" }),
      ),
      limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
    }),
    responses: { 200: "Entries" },
    handler: async (s, req) => {
      const qy = req.query;
      return ok(
        await s.audit.query(req.actor, {
          gallery: p(req, "gallery"),
          ...(qy.image ? { image: qy.image } : {}),
          ...(qy.version ? { version: qy.version } : {}),
          ...(qy.actor ? { actor: qy.actor } : {}),
          ...(qy.action ? { action: qy.action } : {}),
          ...(qy.since ? { since: qy.since } : {}),
          ...(qy.until ? { until: qy.until } : {}),
          ...(qy.before ? { before: Number(qy.before) } : {}),
          ...(qy.after ? { after: Number(qy.after) } : {}),
          ...(qy.limit ? { limit: Number(qy.limit) } : {}),
        }),
      );
    },
  },
  {
    method: "GET",
    path: "/search",
    operationId: "search",
    response: SearchOut,
    summary:
      "Definitions (by name, description and labels) and versions (by number, build id and source revision) of the galleries the caller reads: a case-insensitive substring, each kind counted and paged (default 20, at most 100; `after` a kind's `next` cursor, with that `kind`)",
    tag: "search",
    query: strictQuery({
      q: Type.String({ minLength: 1, maxLength: 100 }),
      kind: Type.Optional(Type.Union(["definitions", "versions"].map((v) => Type.Literal(v)))),
      limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
      after: Type.Optional(Type.String({ maxLength: 1000 })),
    }),
    responses: { 200: "Definitions and versions found, each with its total and next cursor" },
    handler: async (s, req) => {
      const qy = req.query;
      return ok(
        await s.search.search(req.actor, {
          q: qy.q ?? "",
          ...(qy.kind === "definitions" || qy.kind === "versions" ? { kind: qy.kind } : {}),
          ...(qy.limit ? { limit: Number(qy.limit) } : {}),
          ...(qy.after ? { after: qy.after } : {}),
        }),
      );
    },
  },
  {
    method: "GET",
    path: "/webhooks/deliveries",
    operationId: "listDeliveries",
    response: Type.Array(DeliveryOut),
    summary: "The webhook delivery log of the galleries the caller may read, newest first",
    tag: "webhooks",
    query: strictQuery({
      gallery: Type.Optional(Type.String({ maxLength: 64 })),
      state: Type.Optional(Type.Union(["pending", "delivered", "failed"].map((v) => Type.Literal(v)))),
      limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
    }),
    responses: { 200: "Deliveries" },
    handler: async (s, req) =>
      ok(
        await s.deliveries.list(req.actor, {
          ...(req.query.gallery ? { gallery: req.query.gallery } : {}),
          ...(req.query.state ? { state: req.query.state } : {}),
          ...(req.query.limit ? { limit: Math.min(Math.max(Number(req.query.limit), 1), 1000) } : {}),
        }),
      ),
  },
  {
    method: "GET",
    path: "/replication",
    operationId: "listReplication",
    response: Type.Array(ReplicaOut),
    summary: "The copies of versions at their target sites, of the galleries the caller may read",
    tag: "replication",
    query: strictQuery({
      gallery: Type.Optional(Type.String({ maxLength: 64 })),
      image: Type.Optional(Type.String({ maxLength: 64 })),
      state: Type.Optional(
        Type.Union(["pending", "copying", "completed", "failed", "removing"].map((v) => Type.Literal(v))),
      ),
    }),
    responses: { 200: "Copies by gallery, image, version and site" },
    handler: async (s, req) =>
      ok(
        await s.replication.list(req.actor, {
          ...(req.query.gallery ? { gallery: req.query.gallery } : {}),
          ...(req.query.image ? { image: req.query.image } : {}),
          ...(req.query.state ? { state: req.query.state } : {}),
        }),
      ),
  },
  {
    method: "POST",
    path: "/webhooks/deliveries/:id/redeliver",
    operationId: "redeliver",
    response: DeliveryOut,
    summary: "Queues a delivery again with a fresh set of attempts (admin of its gallery)",
    tag: "webhooks",
    query: NoQuery,
    body: Type.Object({}, { additionalProperties: false }),
    responses: { 200: "The delivery, pending again" },
    handler: async (s, req) => ok(await s.deliveries.redeliver(req.actor, p(req, "id"))),
  },
  {
    method: "GET",
    path: "/policies",
    operationId: "listPolicies",
    response: Type.Array(PolicySpecOut),
    summary: "The image policies as configured in strata.yaml (any signed-in user)",
    tag: "policy",
    query: NoQuery,
    responses: { 200: "Policies, in configuration order" },
    handler: async (s, req) => ok(await s.policies.list(req.actor)),
  },
  {
    method: "GET",
    path: "/policy/decisions",
    operationId: "listPolicyDecisions",
    response: Type.Array(PolicyDecisionOut),
    summary:
      "Recorded policy decisions (denied, warned, or allowed with audit failures), newest first: those of galleries the caller is a member of; everything for admins of any gallery",
    tag: "policy",
    query: strictQuery({
      point: Type.Optional(Type.Union(["pull", "run", "admission", "check"].map((v) => Type.Literal(v)))),
      outcome: Type.Optional(Type.Union(["allow", "warn", "deny"].map((v) => Type.Literal(v)))),
      policy: Type.Optional(Type.String({ pattern: "^[a-z0-9]+(?:[._-][a-z0-9]+)*$", maxLength: 128 })),
      since: Type.Optional(Type.String({ maxLength: 40 })),
      limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })),
    }),
    responses: { 200: "Decisions" },
    handler: async (s, req) => {
      const qy = req.query;
      return ok(
        await s.policies.decisions(req.actor, {
          ...(qy.point ? { point: qy.point } : {}),
          ...(qy.outcome ? { outcome: qy.outcome } : {}),
          ...(qy.policy ? { policy: qy.policy } : {}),
          ...(qy.since ? { since: qy.since } : {}),
          ...(qy.limit ? { limit: Math.min(Math.max(Number(qy.limit), 1), 1000) } : {}),
        }),
      );
    },
  },
  {
    method: "POST",
    path: "/policy/check",
    operationId: "checkPolicies",
    response: PolicyCheckOut,
    summary:
      "Decides references against the policies at the check point (CI) or the run point (strata run); references of this server must be pullable by the caller",
    tag: "policy",
    query: NoQuery,
    body: Type.Object(
      {
        references: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 100 }),
        point: Type.Optional(Type.Union([Type.Literal("check"), Type.Literal("run")])),
      },
      { additionalProperties: false },
    ),
    responses: { 200: "One decision per reference, in order" },
    handler: async (s, req) => {
      const body = req.body as { references: string[]; point?: "check" | "run" };
      return ok({
        results: await s.policies.check(req.actor, {
          references: body.references,
          point: body.point ?? "check",
          hosts: req.host === "" ? [] : [req.host],
        }),
      });
    },
  },
];
