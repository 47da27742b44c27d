// Running retention: the facts of a definition read from the database, the plan (retention.ts),
// and its actions applied one by one through the lifecycle's deprecate and delete — each in its
// own transaction with its audit entry and webhook event, after checking in that transaction that
// the plan still holds. A dry run plans only. The sweep runs it for every definition with rules.
import { sql } from "kysely";
import { type Actor, type Db, type GalleryContext, SYSTEM, requireRole, roleOf } from "./context.ts";
import { GalleryError, isGalleryError, q } from "./errors.ts";
import { mustLoadImage } from "./images.ts";
import type { RetentionRules, StoredState } from "./model.ts";
import {
  hasRetentionRules,
  planRetention,
  type RetentionAction,
  type RetentionFacts,
  type RetentionHold,
} from "./retention.ts";
import { toDefinition } from "./rows.ts";
import { versionLifecycleOps } from "./version-lifecycle.ts";

/** Digests per IN list of a query. */
const IN_LIST_MAX = 500;
/** The migration that created the pulls table: pulls are counted since it ran. */
const PULLS_MIGRATION = "0004_replicas_and_pulls";

export type RetentionStatus = "planned" | "applied" | "skipped" | "failed";

export interface RetentionOutcome {
  readonly version: string;
  readonly action: "deprecate" | "delete";
  readonly rule: string;
  readonly reason: string;
  /** planned (dry run), applied, skipped (no longer applies when its turn came) or failed. */
  readonly status: RetentionStatus;
  readonly error?: string;
}

export interface RetentionReport {
  readonly gallery: string;
  readonly image: string;
  readonly rules: RetentionRules;
  readonly actions: readonly RetentionOutcome[];
  /** Versions a rule matched that a protection keeps. */
  readonly held: readonly RetentionHold[];
  readonly notes: readonly string[];
  /** Why the definition's retention could not run (a gallery's run goes on with the others). */
  readonly error?: string;
}

export interface RetentionRun {
  readonly dryRun: boolean;
  readonly definitions: readonly RetentionReport[];
}

export interface RetentionOptions {
  /** Whether this server counts pulls (usage.enabled); without counts the unused rule is off. */
  readonly countsPulls: boolean;
}

export function retentionOps(ctx: GalleryContext, options: RetentionOptions) {
  const lifecycle = versionLifecycleOps(ctx);
  let pullsSince: number | undefined;

  /** When pulls began to be counted: the time the pulls table was created. */
  async function countingSince(db: Db): Promise<number | null> {
    if (!options.countsPulls) return null;
    if (pullsSince !== undefined) return pullsSince;
    const { rows } = await sql<{ timestamp: string }>`select ${sql.ref("timestamp")} from ${sql.table(
      "gallery_migration",
    )} where ${sql.ref("name")} = ${PULLS_MIGRATION}`.execute(db);
    const at = rows[0] === undefined ? NaN : Date.parse(rows[0].timestamp);
    pullsSince = Number.isNaN(at) ? 0 : at;
    return pullsSince;
  }

  /**
   * The facts of a definition. With `reader`, versions of galleries that caller has no role in
   * are not named (a gallery's name is not disclosed to non-members).
   */
  async function loadFacts(db: Db, gallery: string, image: string, reader?: Actor): Promise<RetentionFacts> {
    const definition = await mustLoadImage(db, gallery, image);
    const rows = await db
      .selectFrom("gallery_versions")
      .selectAll()
      .where("gallery", "=", gallery)
      .where("image", "=", image)
      .execute();
    const channels = await db
      .selectFrom("gallery_channels")
      .select(["name", "version"])
      .where("gallery", "=", gallery)
      .where("image", "=", image)
      .execute();
    const pulls = await db
      .selectFrom("gallery_pulls")
      .select(["version", (eb) => eb.fn.max("last_at").as("last")])
      .where("gallery", "=", gallery)
      .where("image", "=", image)
      .groupBy("version")
      .execute();
    const lastPull = new Map(pulls.map((p) => [p.version, Number(p.last)]));
    // Versions of any gallery built on one of these (deleted ones included: they can be restored).
    const digests = [...new Set(rows.map((r) => r.digest))];
    const dependents = new Map<string, string[]>();
    for (let i = 0; i < digests.length; i += IN_LIST_MAX) {
      const children = await db
        .selectFrom("gallery_versions")
        .select(["gallery", "image", "version", "base_digest"])
        .where("base_digest", "in", digests.slice(i, i + IN_LIST_MAX))
        .execute();
      for (const child of children) {
        if (child.base_digest === null) continue;
        const names = dependents.get(child.base_digest) ?? [];
        const hidden =
          reader !== undefined &&
          child.gallery !== gallery &&
          (await roleOf(ctx, db, reader, child.gallery)) === undefined;
        const name = hidden
          ? "a version of another gallery"
          : `${child.gallery}/${child.image}:${child.version}`;
        if (!names.includes(name)) names.push(name);
        dependents.set(child.base_digest, names);
      }
    }
    return {
      name: `${gallery}/${image}`,
      rules: definition.retention ?? {},
      now: ctx.now(),
      versions: rows.map((r) => ({
        version: r.version,
        digest: r.digest,
        storedState: r.state as StoredState,
        eol: r.eol,
        revokeAt: r.revoke_at,
        excludeFromLatest: r.exclude_from_latest !== 0,
        createdAt: r.created_at,
        lastPullAt: lastPull.get(r.version) ?? null,
        restoredAt: r.restored_at,
      })),
      channels,
      dependents,
      pullsSince: await countingSince(db),
    };
  }

  /** Applies one action; in its transaction the plan is made again and must still contain it. */
  async function apply(
    actor: Actor,
    key: { gallery: string; image: string },
    action: RetentionAction,
  ): Promise<RetentionOutcome> {
    const { ruleText: _t, ...shown } = action;
    const target = { ...key, version: action.version };
    const cause = {
      rule: action.rule,
      reason: action.reason,
      async guard(trx: Db): Promise<void> {
        // On PostgreSQL servers sharing the database sweep at once: the row lock makes the later
        // one wait for the earlier's commit, and its plan then sees the version already retired.
        // SQLite has one writer at a time.
        if (ctx.dialect === "postgres") {
          await trx
            .selectFrom("gallery_versions")
            .select("version")
            .where("gallery", "=", key.gallery)
            .where("image", "=", key.image)
            .where("version", "=", action.version)
            .forUpdate()
            .execute();
        }
        const again = planRetention(await loadFacts(trx, key.gallery, key.image));
        if (!again.actions.some((a) => a.version === action.version && a.action === action.action)) {
          throw new NoLongerPlanned(
            `Retention no longer ${action.action}s ${q(`${key.gallery}/${key.image}:${action.version}`)}`,
          );
        }
      },
    };
    try {
      if (action.action === "deprecate")
        await lifecycle.deprecate(
          actor,
          target,
          { reason: `retention: ${action.ruleText}` },
          { retention: cause },
        );
      else await lifecycle.delete(actor, target, { retention: cause });
      return { ...shown, status: "applied" };
    } catch (error) {
      if (error instanceof NoLongerPlanned) return { ...shown, status: "skipped", error: error.message };
      if (!isGalleryError(error)) throw error;
      return { ...shown, status: "failed", error: error.message };
    }
  }

  async function runDefinition(
    actor: Actor,
    gallery: string,
    image: string,
    dryRun: boolean,
  ): Promise<RetentionReport> {
    const facts = await loadFacts(ctx.db, gallery, image, actor);
    const plan = planRetention(facts);
    const actions: RetentionOutcome[] = [];
    for (const action of plan.actions) {
      if (dryRun) {
        const { ruleText: _t, ...shown } = action;
        actions.push({ ...shown, status: "planned" });
      } else {
        actions.push(await apply(actor, { gallery, image }, action));
      }
    }
    return { gallery, image, rules: facts.rules, actions, held: plan.held, notes: plan.notes };
  }

  /** The definitions of a gallery (or all galleries) that have retention rules. */
  async function withRules(gallery?: string): Promise<{ gallery: string; image: string }[]> {
    let query = ctx.db.selectFrom("gallery_images").selectAll();
    if (gallery !== undefined) query = query.where("gallery", "=", gallery);
    const rows = await query.orderBy("gallery").orderBy("name").execute();
    return rows
      .map(toDefinition)
      .filter((d) => hasRetentionRules(d.retention))
      .map((d) => ({ gallery: d.gallery, image: d.name }));
  }

  return {
    /**
     * Plans (dry run: any reader) or applies (publisher) the retention of one definition, or of
     * every definition of the gallery that has rules when `image` is undefined.
     */
    async run(
      actor: Actor,
      gallery: string,
      image: string | undefined,
      run: { dryRun: boolean },
    ): Promise<RetentionRun> {
      await requireRole(ctx, ctx.db, actor, gallery, run.dryRun ? "reader" : "publisher");
      if (image !== undefined) {
        const definition = await mustLoadImage(ctx.db, gallery, image);
        if (!hasRetentionRules(definition.retention)) {
          throw new GalleryError(
            "INVALID",
            `Image definition ${q(`${gallery}/${image}`)} has no retention rules; set them with PATCH of the definition (strata image update)`,
            { detail: { gallery, image } },
          );
        }
        return { dryRun: run.dryRun, definitions: [await runDefinition(actor, gallery, image, run.dryRun)] };
      }
      const definitions: RetentionReport[] = [];
      for (const d of await withRules(gallery)) {
        try {
          definitions.push(await runDefinition(actor, d.gallery, d.image, run.dryRun));
        } catch (error) {
          if (!isGalleryError(error)) throw error;
          const rules = (await mustLoadImage(ctx.db, d.gallery, d.image)).retention ?? {};
          definitions.push({ ...d, rules, actions: [], held: [], notes: [], error: error.message });
        }
      }
      return { dryRun: run.dryRun, definitions };
    },

    /**
     * The sweep's part: applies the retention of every definition with rules, as SYSTEM. A
     * definition that fails is logged and counted; the others go on.
     */
    async sweep(): Promise<{ deprecated: number; deleted: number; failed: number }> {
      const counts = { deprecated: 0, deleted: 0, failed: 0 };
      for (const d of await withRules()) {
        try {
          const report = await runDefinition(SYSTEM, d.gallery, d.image, false);
          for (const a of report.actions) {
            if (a.status === "applied") counts[a.action === "deprecate" ? "deprecated" : "deleted"]++;
            if (a.status === "failed") {
              counts.failed++;
              ctx.log.warn({ ...d, version: a.version, error: a.error }, "retention action failed");
            }
          }
        } catch (err) {
          counts.failed++;
          ctx.log.error({ err, ...d }, "retention of a definition failed");
        }
      }
      return counts;
    },
  };
}

/** The action's rule no longer applies when its transaction runs (the state changed meanwhile). */
class NoLongerPlanned extends GalleryError {
  constructor(message: string) {
    super("CONFLICT", message);
  }
}
