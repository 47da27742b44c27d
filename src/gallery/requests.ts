// Approval requests: a channel move of a restricted channel, or a copy into a gallery that
// asks for approvals, waits for that many approvals by users other than the requester who hold
// the approver role in the target gallery (the two-person rule). The last approval applies it.
import { randomUUID } from "node:crypto";
import {
  type Actor,
  type Db,
  type GalleryContext,
  actorName,
  audit,
  inTransaction,
  iso,
  requireRole,
} from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import type { Approval, ApprovalRequest, RequestKind, RequestState } from "./model.ts";
import { toRequest } from "./rows.ts";

export interface NewRequest {
  readonly kind: RequestKind;
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly target: { gallery: string; image: string; channel?: string };
  readonly required: number;
}

export async function mustLoadRequest(db: Db, id: string): Promise<ApprovalRequest> {
  const row = await db.selectFrom("gallery_requests").selectAll().where("id", "=", id).executeTakeFirst();
  if (row === undefined)
    throw new GalleryError("NOT_FOUND", `Approval request ${q(id)} does not exist`, { detail: { id } });
  return toRequest(row);
}

/** Applies an approved request (moves the channel or copies the version). */
export type ApplyRequest = (request: ApprovalRequest) => Promise<void>;

export function requestOps(ctx: GalleryContext, apply: ApplyRequest) {
  async function finish(
    id: string,
    state: RequestState,
    actor: Actor,
    reason?: string,
  ): Promise<ApprovalRequest> {
    // A rejection ends a pending request; applied and failed end one being applied. A request
    // that moved on meanwhile (approved as it was rejected) is not overwritten.
    const from = state === "rejected" ? "pending" : "applying";
    return inTransaction(ctx, async (trx) => {
      const before = await mustLoadRequest(trx, id);
      const result = await trx
        .updateTable("gallery_requests")
        .set({
          state,
          decided_by: actorName(actor),
          decided_at: ctx.now(),
          reason: reason ?? null,
          revision: before.approvals.length + 1000,
        })
        .where("id", "=", id)
        .where("state", "=", from)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        throw new GalleryError("CONFLICT", `Approval request ${q(id)} is ${before.state}, not ${from}`);
      }
      const after = await mustLoadRequest(trx, id);
      await audit(ctx, trx, actor, {
        action: `request.${state}`,
        gallery: before.target.gallery,
        image: before.image,
        version: before.version,
        target: id,
        before: { state: before.state },
        after: { state, ...(reason === undefined ? {} : { reason }) },
      });
      return after;
    });
  }

  return {
    async create(actor: Actor, input: NewRequest): Promise<ApprovalRequest> {
      const id = randomUUID();
      return inTransaction(ctx, async (trx) => {
        await trx
          .insertInto("gallery_requests")
          .values({
            id,
            kind: input.kind,
            gallery: input.gallery,
            image: input.image,
            version: input.version,
            target_gallery: input.target.gallery,
            target_image: input.target.image,
            target_channel: input.target.channel ?? null,
            requested_by: actorName(actor),
            requested_at: ctx.now(),
            required: input.required,
            approvals: "[]",
            state: "pending",
            revision: 0,
            decided_by: null,
            decided_at: null,
            reason: null,
          })
          .execute();
        const request = await mustLoadRequest(trx, id);
        await audit(ctx, trx, actor, {
          action: "request.created",
          gallery: input.target.gallery,
          image: input.image,
          version: input.version,
          target: id,
          after: request,
        });
        return request;
      });
    },

    async list(actor: Actor, filter: { gallery?: string; state?: string }): Promise<ApprovalRequest[]> {
      let query = ctx.db
        .selectFrom("gallery_requests")
        .selectAll()
        .orderBy("requested_at", "desc")
        .limit(500);
      if (filter.gallery !== undefined) {
        await requireRole(ctx, ctx.db, actor, filter.gallery, "reader");
        query = query.where("target_gallery", "=", filter.gallery);
      }
      if (filter.state !== undefined) query = query.where("state", "=", filter.state);
      const rows = (await query.execute()).map(toRequest);
      const visible: ApprovalRequest[] = [];
      for (const r of rows) {
        try {
          await requireRole(ctx, ctx.db, actor, r.target.gallery, "reader");
          visible.push(r);
        } catch {
          // Requests of galleries the caller cannot read are left out.
        }
      }
      return visible;
    },

    async get(actor: Actor, id: string): Promise<ApprovalRequest> {
      const request = await mustLoadRequest(ctx.db, id);
      await requireRole(ctx, ctx.db, actor, request.target.gallery, "reader");
      return request;
    },

    async approve(actor: Actor, id: string, comment?: string): Promise<ApprovalRequest> {
      const request = await mustLoadRequest(ctx.db, id);
      await requireRole(ctx, ctx.db, actor, request.target.gallery, "approver");
      const user = actorName(actor);
      if (request.state !== "pending")
        throw new GalleryError("CONFLICT", `Approval request ${q(id)} is ${request.state}, not pending`);
      if (user === request.requestedBy) {
        throw new GalleryError(
          "FORBIDDEN",
          `User ${q(user)} requested ${q(id)} and cannot approve it: another approver must (two-person rule)`,
          {
            detail: { id, requestedBy: request.requestedBy },
          },
        );
      }
      if (request.approvals.some((a) => a.user === user)) {
        throw new GalleryError("CONFLICT", `User ${q(user)} has already approved ${q(id)}`);
      }
      const approval: Approval = { user, at: iso(ctx.now()), ...(comment === undefined ? {} : { comment }) };
      const approvals = [...request.approvals, approval];
      const complete = approvals.length >= request.required;
      const updated = await inTransaction(ctx, async (trx) => {
        const result = await trx
          .updateTable("gallery_requests")
          .set({
            approvals: JSON.stringify(approvals),
            revision: approvals.length,
            // While applying, decided_at is when the change began (see resumeInterrupted).
            ...(complete ? { state: "applying", decided_at: ctx.now() } : {}),
          })
          .where("id", "=", id)
          .where("state", "=", "pending")
          .where("revision", "=", request.approvals.length)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return undefined;
        await audit(ctx, trx, actor, {
          action: "request.approved",
          gallery: request.target.gallery,
          image: request.image,
          version: request.version,
          target: id,
          after: { approvals: approvals.length, required: request.required },
        });
        return mustLoadRequest(trx, id);
      });
      if (updated === undefined)
        throw new GalleryError("CONFLICT", `Approval request ${q(id)} changed meanwhile; try again`);
      if (!complete) return updated;
      try {
        await apply(updated);
      } catch (error) {
        await finish(
          id,
          "failed",
          actor,
          error instanceof Error ? error.message.slice(0, 1000) : "apply failed",
        );
        throw error;
      }
      return finish(id, "applied", actor);
    },

    /**
     * Applies again the requests whose change a crash interrupted (still "applying" after
     * `olderThanMs`); applying is idempotent. Returns how many were finished.
     */
    async resumeInterrupted(olderThanMs: number): Promise<number> {
      const stuck = await ctx.db
        .selectFrom("gallery_requests")
        .select("id")
        .where("state", "=", "applying")
        .where("decided_at", "<", ctx.now() - olderThanMs)
        .execute();
      let finished = 0;
      for (const { id } of stuck) {
        const request = await mustLoadRequest(ctx.db, id);
        const actor: Actor = { user: request.approvals.at(-1)?.user };
        try {
          await apply(request);
          await finish(id, "applied", actor);
        } catch (error) {
          if (
            error instanceof GalleryError &&
            error.code === "CONFLICT" &&
            /not applying/.test(error.message)
          )
            continue;
          await finish(
            id,
            "failed",
            actor,
            error instanceof Error ? error.message.slice(0, 1000) : "apply failed",
          ).catch(() => undefined);
        }
        finished++;
      }
      return finished;
    },

    async reject(actor: Actor, id: string, reason?: string): Promise<ApprovalRequest> {
      const request = await mustLoadRequest(ctx.db, id);
      if (actorName(actor) !== request.requestedBy) {
        await requireRole(ctx, ctx.db, actor, request.target.gallery, "approver");
      } else {
        await requireRole(ctx, ctx.db, actor, request.target.gallery, "reader");
      }
      if (request.state !== "pending")
        throw new GalleryError("CONFLICT", `Approval request ${q(id)} is ${request.state}, not pending`);
      return finish(id, "rejected", actor, reason);
    },
  };
}
