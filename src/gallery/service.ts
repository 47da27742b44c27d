// The gallery service: opens its tables in the metadata database, and offers every operation
// of the model to the API and the CLI — each checks the caller's role, validates its input,
// changes state in one transaction with its audit entry and queued webhook events.
import type { Logger } from "pino";
import { connectDatabase, migrateSet, type BlobStore, type MetadataStore } from "../store/index.ts";
import { galleryAccess } from "./access.ts";
import { searchOps } from "./search.ts";
import { auditOps } from "./audit-log.ts";
import { channelOps } from "./channels.ts";
import { deliveryOps } from "./deliveries.ts";
import { createBackground } from "./background.ts";
import { createChangeFeed, type GalleryChange } from "./change-feed.ts";
import type { GalleryContext, GallerySigning, ReplicationSite, WebhookTarget } from "./context.ts";
import type { GalleryDatabase } from "./db/schema.ts";
import { galleryMigrations } from "./db/migrations.ts";
import { galleryOps } from "./galleries.ts";
import { imageOps } from "./images.ts";
import { createPolicyEnforcer, type PolicyEnforcer, type PolicySetup } from "./policy-enforcer.ts";
import { policyOps } from "./policy-ops.ts";
import { promotionOps } from "./promotion.ts";
import { replicaOps } from "./replicas.ts";
import { createPullPath, type PullPath } from "./pull-path.ts";
import { retentionOps } from "./retention-run.ts";
import { signatureCheckOps } from "./signature-checks.ts";
import { sweepOps, type SweepResult } from "./sweep.ts";
import { createDeliverer, type Deliverer, type DeliveryOptions } from "./webhooks.ts";
import { versionOps } from "./versions.ts";

export type { MoveOutcome, PromoteOutcome } from "./promotion.ts";

export interface GalleryServiceDeps {
  readonly meta: MetadataStore;
  readonly blobs: BlobStore;
  readonly log: Logger;
}

export interface GalleryServiceOptions {
  /** The metadata database URL (sqlite:… or postgres://…); the gallery keeps its tables there. */
  readonly database: string;
  readonly authEnabled: boolean;
  /**
   * Callers without credentials may read galleries (`auth.anonymous: read`): the API's read
   * routes marked for them answer as to a reader of every gallery.
   */
  readonly anonymousRead?: boolean;
  /** The registry's pull check, so a version can only pin content its publisher may pull. */
  readonly canPull?: (user: string | undefined, repository: string) => Promise<boolean>;
  readonly webhooks?: readonly WebhookTarget[];
  /** Keys by gallery: versions published or copied into a gallery with a key are signed. */
  readonly signing?: ReadonlyMap<string, GallerySigning>;
  readonly delivery?: Partial<DeliveryOptions>;
  /** How often scheduled revocations, retention and expired deletions are applied (ms). */
  readonly sweepMs?: number;
  /** Whether pulls are counted (usage.enabled); without counts retention's unused rule is off. */
  readonly countsPulls?: boolean;
  readonly now?: () => number;
  /** Sites versions may be replicated to, by name (the server's `sites`). */
  readonly sites?: ReadonlyMap<string, ReplicationSite>;
  /** The image policies decided at pull, run, admission and check; none: nothing is decided. */
  readonly policy?: PolicySetup;
}

/** An approved request still being applied after this long was interrupted by a crash. */
const RESUME_AFTER_MS = 60_000;

export type GalleryService = Awaited<ReturnType<typeof createGalleryService>>;

export async function createGalleryService(deps: GalleryServiceDeps, options: GalleryServiceOptions) {
  const { db, dialect, release } = connectDatabase<GalleryDatabase>(options.database);
  try {
    await migrateSet(db, dialect, {
      name: "gallery",
      table: "gallery_migration",
      migrations: galleryMigrations,
    });
  } catch (error) {
    await release();
    throw error;
  }
  const replicaListeners = new Set<() => void>();
  const ctx: GalleryContext = {
    db,
    dialect,
    meta: deps.meta,
    blobs: deps.blobs,
    log: deps.log,
    now: options.now ?? Date.now,
    authEnabled: options.authEnabled,
    canPull: options.canPull ?? (async () => true),
    webhooks: options.webhooks ?? [],
    signing: options.signing ?? new Map(),
    background: createBackground(deps.log),
    // Called only after the deliverer below exists (after a commit).
    deliveriesQueued: () => deliverer.kick(),
    sites: options.sites ?? new Map(),
    replicasChanged: () => {
      for (const listener of replicaListeners) listener();
    },
    generation: { value: 0 },
    changes: createChangeFeed((err) => deps.log.error({ err }, "change listener failed")),
  };
  const deliverer: Deliverer = createDeliverer(ctx, {
    backoffMs: options.delivery?.backoffMs ?? 2000,
    maxAttempts: options.delivery?.maxAttempts ?? 8,
    timeoutMs: options.delivery?.timeoutMs ?? 10_000,
    pollMs: options.delivery?.pollMs ?? 1000,
  });
  const galleries = galleryOps(ctx);
  const images = imageOps(ctx);
  const versions = versionOps(ctx);
  const channels = channelOps(ctx);
  const auditLog = auditOps(ctx);
  const policy: PolicyEnforcer | undefined =
    options.policy === undefined || options.policy.policies.length === 0
      ? undefined
      : createPolicyEnforcer(ctx, options.policy);
  const pullPath: PullPath = withPolicy(createPullPath(ctx), policy);

  const promotion = promotionOps(ctx, { images, versions, channels });
  const retention = retentionOps(ctx, { countsPulls: options.countsPulls ?? true });
  const sweepLifecycle = sweepOps(ctx, retention.sweep);
  /** Scheduled revocations, retention, expired deletions, and approvals a crash interrupted. */
  async function sweep(): Promise<SweepResult & { resumed: number }> {
    const done = await sweepLifecycle();
    return { ...done, resumed: await promotion.resumeInterrupted(RESUME_AFTER_MS) };
  }

  const sweepTimer = setInterval(() => {
    sweep().catch((err: unknown) => deps.log.error({ err }, "gallery sweep failed"));
  }, options.sweepMs ?? 60_000);
  sweepTimer.unref();

  return {
    authEnabled: options.authEnabled,
    anonymousRead: options.authEnabled && options.anonymousRead === true,
    galleries,
    images,
    versions,
    channels: {
      list: channels.list,
      get: channels.get,
      history: channels.history,
      set: promotion.setChannel,
      rollback: promotion.rollback,
    },
    promote: promotion.promote,
    /** Retention: planned (dry run) or applied, for one definition or a gallery's. */
    retention: { run: retention.run },
    requests: promotion.requests,
    audit: auditLog,
    /** Definitions and versions across the caller's galleries. */
    search: searchOps(ctx),
    replication: replicaOps(ctx),
    /** A version's signatures checked against its gallery's trusted keys. */
    signatures: signatureCheckOps(ctx),
    /** Calls `listener` after replication targets changed; returns the unsubscribe. */
    onReplicasChanged(listener: () => void): () => void {
      replicaListeners.add(listener);
      return () => replicaListeners.delete(listener);
    },
    /** Changes this server makes, after they commit (the API's event stream). */
    changes: {
      subscribe: ctx.changes.subscribe,
      /** For changes written outside the service (replication's copy state and progress). */
      publish: (change: Omit<GalleryChange, "at">): void =>
        ctx.changes.publish({ ...change, at: new Date(ctx.now()).toISOString() }),
    },
    /** The gallery's tables, for the replication reconciler (replicate/), which keeps its rows. */
    db,
    /** Clock of the gallery. */
    now: ctx.now,
    deliveries: deliveryOps(ctx, deliverer),
    /** Resolves when no due webhook delivery is left. */
    deliveriesIdle: () => deliverer.idle(),
    pullPath,
    /** The policies at work; undefined when none is configured. */
    policy,
    /** The policies, the decision log and checks, as the API offers them. */
    policies: policyOps(ctx, policy, options.policy?.specs ?? []),
    sweep,
    /** The database, clock, role check and content bytes, for usage and replication. */
    access: galleryAccess(ctx, galleries.list),
    /** Resolves when the work left for after changes (computed changes) is done. */
    backgroundIdle: () => ctx.background.idle(),
    async close(): Promise<void> {
      clearInterval(sweepTimer);
      await ctx.background.idle();
      await deliverer.stop();
      await release();
    },
  };
}

/** The pull path with the policies' decision after the gallery's own (a deny of either refuses). */
function withPolicy(pullPath: PullPath, policy: PolicyEnforcer | undefined): PullPath {
  if (policy === undefined) return pullPath;
  return {
    ...pullPath,
    async checkPull(repository, reference, digest, user, manifest) {
      const own = await pullPath.checkPull(repository, reference, digest, user, manifest);
      if (own.deny !== undefined) return own;
      const decided = await policy.checkPull(repository, reference, digest, user, manifest);
      const warnings = [...(own.warnings ?? []), ...(decided.warnings ?? [])];
      return {
        ...(decided.deny === undefined ? {} : { deny: decided.deny }),
        ...(warnings.length === 0 ? {} : { warnings }),
      };
    },
  };
}
