// The policy decision log: every decision that was not a plain allow — denied, warned, or allowed
// with audit failures — kept in gallery_policy_decisions with bounded retention (the newest
// DECISIONS_KEPT entries, none older than DECISIONS_MAX_AGE_DAYS), and read back filtered. Who may
// read an entry: with authentication off, everyone; else members (any role) of the gallery the
// image belongs to, and admins of any gallery for everything (images outside every gallery too).
import type { Decision, RuleFailure } from "../policy/index.ts";
import { type Actor, type GalleryContext, iso } from "./context.ts";
import { GalleryError } from "./errors.ts";

export const DECISIONS_KEPT = 100_000;
export const DECISIONS_MAX_AGE_DAYS = 30;
/** Retention is applied once every this many entries written. */
const PRUNE_EVERY = 256;

export interface DecisionEntry {
  readonly id: number;
  readonly at: string;
  readonly point: string;
  readonly outcome: string;
  readonly reference: string;
  readonly repository: string;
  readonly digest: string;
  readonly gallery: string | null;
  readonly user: string | null;
  readonly failures: readonly RuleFailure[];
}

export interface DecisionQuery {
  readonly point?: string;
  readonly outcome?: string;
  readonly policy?: string;
  /** RFC 3339 date-time or date. */
  readonly since?: string;
  readonly limit?: number;
}

export function policyLog(ctx: GalleryContext) {
  let written = 0;

  async function prune(): Promise<void> {
    const cutoff = ctx.now() - DECISIONS_MAX_AGE_DAYS * 86_400_000;
    await ctx.db.deleteFrom("gallery_policy_decisions").where("at", "<", cutoff).execute();
    const newest = await ctx.db
      .selectFrom("gallery_policy_decisions")
      .select("id")
      .orderBy("id", "desc")
      .offset(DECISIONS_KEPT)
      .limit(1)
      .executeTakeFirst();
    if (newest !== undefined)
      await ctx.db.deleteFrom("gallery_policy_decisions").where("id", "<=", newest.id).execute();
  }

  async function readableGalleries(actor: Actor): Promise<string[] | "all"> {
    if (!ctx.authEnabled) return "all";
    if (actor.user === undefined) throw new GalleryError("UNAUTHORIZED", "Authentication required");
    const rows = await ctx.db
      .selectFrom("gallery_members")
      .select(["gallery", "role"])
      .where("user_name", "=", actor.user)
      .execute();
    if (rows.some((r) => r.role === "admin")) return "all";
    return rows.map((r) => r.gallery);
  }

  return {
    prune,

    /** Records a decision worth keeping (not a plain allow); never throws (a failure is logged). */
    async record(
      decision: Decision,
      where: { repository: string; gallery?: string; user?: string },
    ): Promise<void> {
      if (decision.outcome === "allow" && decision.failures.length === 0) return;
      const failed = [...new Set(decision.failures.map((f) => f.policy))];
      try {
        await ctx.db
          .insertInto("gallery_policy_decisions")
          .values({
            at: ctx.now(),
            point: decision.point,
            outcome: decision.outcome,
            reference: decision.reference.slice(0, 1024),
            repository: where.repository,
            digest: decision.digest,
            gallery: where.gallery ?? null,
            user_name: where.user ?? null,
            policies: `,${failed.join(",")},`,
            failures: JSON.stringify(decision.failures),
          } as never)
          .execute();
        if (++written % PRUNE_EVERY === 0) await prune();
      } catch (err) {
        ctx.log.error({ err }, "policy decision not recorded");
      }
    },

    /** Entries the caller may read, newest first. */
    async list(actor: Actor, query: DecisionQuery): Promise<DecisionEntry[]> {
      const galleries = await readableGalleries(actor);
      if (galleries !== "all" && galleries.length === 0) return [];
      let since: number | undefined;
      if (query.since !== undefined) {
        since = Date.parse(query.since);
        if (Number.isNaN(since))
          throw new GalleryError(
            "INVALID",
            `Invalid since ${JSON.stringify(query.since)}: expected an RFC 3339 date or date-time`,
          );
      }
      let q = ctx.db.selectFrom("gallery_policy_decisions").selectAll();
      if (galleries !== "all") q = q.where("gallery", "in", galleries);
      if (query.point !== undefined) q = q.where("point", "=", query.point);
      if (query.outcome !== undefined) q = q.where("outcome", "=", query.outcome);
      if (query.policy !== undefined) q = q.where("policies", "like", `%,${query.policy},%`);
      if (since !== undefined) q = q.where("at", ">=", since);
      const rows = await q
        .orderBy("id", "desc")
        .limit(query.limit ?? 100)
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        at: iso(Number(r.at)),
        point: r.point,
        outcome: r.outcome,
        reference: r.reference,
        repository: r.repository,
        digest: r.digest,
        gallery: r.gallery,
        user: r.user_name,
        failures: JSON.parse(r.failures) as RuleFailure[],
      }));
    },
  };
}

export type PolicyLog = ReturnType<typeof policyLog>;
