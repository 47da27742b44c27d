// What every gallery operation works with: the gallery's database, the registry's content
// (metadata rows and blob pool), the clock, the caller, and the two side effects of a change
// (an audit entry and webhook deliveries) written in the change's own transaction.
import { randomUUID } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Logger } from "pino";
import type { SigningKey, TrustedKey } from "../sign/index.ts";
import type { Background } from "./background.ts";
import type { ChangeFeed, GalleryChange } from "./change-feed.ts";
import type { BlobStore, Dialect, MetadataStore } from "../store/index.ts";
import type { GalleryDatabase } from "./db/schema.ts";
import type { GalleryEvent, GalleryEventType, Role } from "./model.ts";
import { GalleryError, q } from "./errors.ts";
import { roleRank } from "./model.ts";

export type Db = Kysely<GalleryDatabase> | Transaction<GalleryDatabase>;

/** Who calls: a user name, or undefined when authentication is off or the caller is anonymous. */
export interface Actor {
  readonly user?: string | undefined;
  /**
   * Set by the API on a read route that anonymous callers may use, when the server grants
   * anonymous reads (`auth.anonymous: read`): the caller, signed in or not, reads every gallery at
   * least as a reader does (what anonymous callers may do, every user may do too). An anonymous
   * caller still changes nothing: only the reader role is ever granted this way.
   */
  readonly anonymousReader?: true;
}

export interface WebhookTarget {
  readonly name: string;
  readonly url: string;
  readonly secret: string;
  /** Event types delivered; empty = all. */
  readonly events: readonly GalleryEventType[];
  /** Galleries whose events are delivered; empty = all. */
  readonly galleries: readonly string[];
}

/** A gallery's keys: the one that signs what is published or copied into it, and those it trusts. */
export interface GallerySigning {
  readonly key?: SigningKey;
  /** Public keys whose signatures count for the gallery (the signing key's own included). */
  readonly trusted: readonly TrustedKey[];
}

/** A site versions may be replicated to, as the gallery needs to know it. */
export interface ReplicationSite {
  readonly kind: "strata" | "registry";
  readonly region?: string;
}

export interface GalleryContext {
  readonly db: Kysely<GalleryDatabase>;
  readonly dialect: Dialect;
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
  readonly log: Logger;
  readonly now: () => number;
  /** False when the server has no users: every caller may do everything. */
  readonly authEnabled: boolean;
  /** Whether a user may pull a repository through the registry (its access rules and roles). */
  readonly canPull: (user: string | undefined, repository: string) => Promise<boolean>;
  readonly webhooks: readonly WebhookTarget[];
  /** Work left for after a change's answer (computed changes). */
  readonly background: Background;
  /** Signing keys by gallery name (from the server's configuration). */
  readonly signing: ReadonlyMap<string, GallerySigning>;
  /** Called after a transaction that queued deliveries commits. */
  readonly deliveriesQueued: () => void;
  /** The replication sites the server knows (from its configuration), by name. */
  readonly sites: ReadonlyMap<string, ReplicationSite>;
  /** Called after replication targets changed (the reconciler wakes up). */
  readonly replicasChanged: () => void;
  /** Bumped after every local change; caches of gallery state are valid only within one value. */
  readonly generation: { value: number };
  /** Every audited change, published after its transaction commits (the event stream's source). */
  readonly changes: ChangeFeed;
}

/**
 * The server itself (the sweep): holds every role in every gallery. Only this object is the
 * system: a caller signed in as a user named "system" is an ordinary user.
 */
export const SYSTEM: Actor = Object.freeze({ user: "system" });

export const actorName = (actor: Actor): string => actor.user ?? "anonymous";
export const iso = (ms: number): string => new Date(ms).toISOString();

/** The changes audited in a transaction of inTransaction, published once it commits. */
const uncommitted = new WeakMap<Db, GalleryChange[]>();

/**
 * Runs fn in a transaction; deliveries it queued are kicked and the changes it audited are
 * published after the commit (nothing of a rolled-back transaction is).
 */
export async function inTransaction<T>(
  ctx: GalleryContext,
  fn: (trx: Transaction<GalleryDatabase>) => Promise<T>,
): Promise<T> {
  const changes: GalleryChange[] = [];
  const result = await ctx.db.transaction().execute((trx) => {
    uncommitted.set(trx, changes);
    return fn(trx);
  });
  ctx.generation.value++;
  ctx.deliveriesQueued();
  for (const change of changes) ctx.changes.publish(change);
  return result;
}

export interface AuditInput {
  readonly action: string;
  readonly gallery: string;
  readonly image?: string;
  readonly version?: string;
  readonly target?: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export async function audit(ctx: GalleryContext, trx: Db, actor: Actor, entry: AuditInput): Promise<void> {
  await trx
    .insertInto("gallery_audit")
    .values({
      at: ctx.now(),
      actor: actorName(actor),
      action: entry.action,
      gallery: entry.gallery,
      image: entry.image ?? null,
      version: entry.version ?? null,
      target: entry.target ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
    } as never)
    .execute();
  const change: GalleryChange = {
    kind: entry.action,
    gallery: entry.gallery,
    ...(entry.image === undefined ? {} : { image: entry.image }),
    ...(entry.version === undefined ? {} : { version: entry.version }),
    ...(entry.target === undefined ? {} : { target: entry.target }),
    at: iso(ctx.now()),
  };
  // Outside inTransaction (no transaction, or one of the caller's own) it is published at once.
  const pending = uncommitted.get(trx);
  if (pending === undefined) ctx.changes.publish(change);
  else pending.push(change);
}

/** Queues the event for every webhook that wants it, in the caller's transaction. */
export async function emit(
  ctx: GalleryContext,
  trx: Db,
  event: Omit<GalleryEvent, "at" | "actor">,
  actor: Actor,
): Promise<void> {
  const now = ctx.now();
  const full: GalleryEvent = { ...event, at: iso(now), actor: actorName(actor) };
  for (const hook of ctx.webhooks) {
    if (hook.events.length > 0 && !hook.events.includes(event.type)) continue;
    if (hook.galleries.length > 0 && !hook.galleries.includes(event.gallery)) continue;
    const id = randomUUID();
    await trx
      .insertInto("gallery_deliveries")
      .values({
        id,
        gallery: event.gallery,
        webhook: hook.name,
        event: event.type,
        payload: JSON.stringify({ id, ...full }),
        state: "pending",
        attempts: 0,
        next_at: now,
        claimed_until: 0,
        last_status: null,
        last_error: null,
        created_at: now,
        delivered_at: null,
      })
      .execute();
  }
}

/** The caller's role in a gallery: admin for everyone when authentication is off, and for SYSTEM. */
export async function roleOf(
  ctx: GalleryContext,
  db: Db,
  actor: Actor,
  gallery: string,
): Promise<Role | undefined> {
  if (!ctx.authEnabled || actor === SYSTEM) return "admin";
  const anonymous: Role | undefined = actor.anonymousReader === true ? "reader" : undefined;
  if (actor.user === undefined) return anonymous;
  const row = await db
    .selectFrom("gallery_members")
    .select("role")
    .where("gallery", "=", gallery)
    .where("user_name", "=", actor.user)
    .executeTakeFirst();
  return (row?.role as Role | undefined) ?? anonymous;
}

/** Names of the galleries the caller is a member of (every gallery when authentication is off). */
export async function readableGalleryNames(ctx: GalleryContext, actor: Actor): Promise<string[]> {
  if (!ctx.authEnabled)
    return (await ctx.db.selectFrom("gallery_galleries").select("name").execute()).map((r) => r.name);
  if (actor.user === undefined) throw new GalleryError("UNAUTHORIZED", "Authentication required");
  const rows = await ctx.db
    .selectFrom("gallery_members")
    .select("gallery")
    .where("user_name", "=", actor.user)
    .execute();
  return rows.map((r) => r.gallery);
}

/**
 * Checks the caller holds at least `role` in the gallery. The gallery must exist; callers with
 * no role in it are told it does not exist, so names of private galleries do not leak.
 */
export async function requireRole(
  ctx: GalleryContext,
  db: Db,
  actor: Actor,
  gallery: string,
  role: Role,
): Promise<void> {
  if (ctx.authEnabled && actor.user === undefined && (actor.anonymousReader !== true || role !== "reader")) {
    throw new GalleryError("UNAUTHORIZED", "Authentication required");
  }
  const exists = await db
    .selectFrom("gallery_galleries")
    .select("name")
    .where("name", "=", gallery)
    .executeTakeFirst();
  const held = exists === undefined ? undefined : await roleOf(ctx, db, actor, gallery);
  if (exists === undefined || held === undefined) {
    throw new GalleryError("NOT_FOUND", `Gallery ${q(gallery)} does not exist`, { detail: { gallery } });
  }
  if (roleRank(held) < roleRank(role)) {
    throw new GalleryError(
      "FORBIDDEN",
      `User ${q(actorName(actor))} is ${held} in gallery ${q(gallery)}; this needs the ${role} role`,
      { detail: { gallery, role: held, required: role } },
    );
  }
}
