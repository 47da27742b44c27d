// Webhook deliveries: events are queued in the database in the transaction of the change that
// caused them (an outbox), then POSTed to each configured URL with an HMAC-SHA256 signature of
// the body, retried with exponential backoff, and every attempt's outcome kept in the delivery
// log. Several servers sharing one database deliver each event once: a delivery is claimed
// with a compare-and-set before it is sent.
import { createHmac } from "node:crypto";
import type { GalleryContext, WebhookTarget } from "./context.ts";
import type { DeliveriesTable } from "./db/schema.ts";
import { iso } from "./context.ts";
import { serialRunner } from "../lib/serial-runner.ts";

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const SIGNATURE_HEADER = "X-Strata-Signature";
export const EVENT_HEADER = "X-Strata-Event";
export const DELIVERY_HEADER = "X-Strata-Delivery";

/** `sha256=<hex HMAC-SHA256 of the body with the webhook's secret>` */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface DeliveryOptions {
  /** First retry after this many ms; each further retry waits twice as long (capped at 1 h). */
  readonly backoffMs: number;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  /** How often the queue is looked at besides right after a change. */
  readonly pollMs: number;
}

export interface Delivery {
  readonly id: string;
  readonly gallery: string;
  readonly webhook: string;
  readonly event: string;
  readonly state: "pending" | "delivered" | "failed";
  readonly attempts: number;
  readonly lastStatus?: number;
  readonly lastError?: string;
  readonly createdAt: string;
  readonly deliveredAt?: string;
  readonly nextAttemptAt?: string;
  readonly payload: unknown;
}

export interface Deliverer {
  kick(): void;
  /** The log, newest first, of the given galleries only. */
  list(filter: { galleries: readonly string[]; state?: string; limit?: number }): Promise<Delivery[]>;
  /** Queues a delivery again with a fresh set of attempts (sent at the next kick); false when it does not exist. */
  redeliver(id: string): Promise<boolean>;
  /** The gallery of a delivery; undefined when there is no such delivery. */
  galleryOf(id: string): Promise<string | null | undefined>;
  get(id: string): Promise<Delivery | undefined>;
  /** Resolves when no due delivery is left (tests and shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function createDeliverer(ctx: GalleryContext, options: DeliveryOptions): Deliverer {
  const hooks = new Map<string, WebhookTarget>(ctx.webhooks.map((h) => [h.name, h]));
  let stopped = false;
  const runner = serialRunner(() => pass(), {
    stopped: () => stopped || hooks.size === 0,
    onError: (err) => ctx.log.error({ err }, "webhook delivery pass failed"),
  });
  const kick = (): void => runner.kick();
  const timer = setInterval(kick, options.pollMs);
  timer.unref();

  async function pass(): Promise<void> {
    for (;;) {
      const now = ctx.now();
      const due = await ctx.db
        .selectFrom("gallery_deliveries")
        .selectAll()
        .where("state", "=", "pending")
        .where("next_at", "<=", now)
        .where("claimed_until", "<=", now)
        .orderBy("created_at")
        .limit(16)
        .execute();
      if (due.length === 0 || stopped) {
        await scheduleNext();
        return;
      }
      await Promise.all(due.map((row) => deliver(row, now)));
    }
  }

  /** Wakes up when the earliest retry is due, rather than at the next poll. */
  let wake: NodeJS.Timeout | undefined;
  async function scheduleNext(): Promise<void> {
    const next = await ctx.db
      .selectFrom("gallery_deliveries")
      .select((eb) => eb.fn.min("next_at").as("at"))
      .where("state", "=", "pending")
      .executeTakeFirst();
    const at = next?.at === null || next?.at === undefined ? undefined : Number(next.at);
    if (at === undefined || stopped) return;
    clearTimeout(wake);
    // Node fires a longer timeout at once (and warns): a retry due weeks ahead, after the clock
    // went back, would otherwise wake this every millisecond.
    wake = setTimeout(kick, Math.min(Math.max(0, at - ctx.now()) + 5, MAX_TIMEOUT_MS));
    wake.unref();
  }

  async function deliver(
    row: {
      id: string;
      webhook: string;
      event: string;
      payload: string;
      attempts: number;
      claimed_until: number;
    },
    now: number,
  ): Promise<void> {
    const claimed = await ctx.db
      .updateTable("gallery_deliveries")
      .set({ claimed_until: now + options.timeoutMs * 2 })
      .where("id", "=", row.id)
      .where("claimed_until", "=", row.claimed_until)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return;
    const hook = hooks.get(row.webhook);
    let status: number | undefined;
    let error: string | undefined;
    if (hook === undefined) {
      error = `webhook "${row.webhook}" is no longer configured`;
    } else {
      try {
        const response = await fetch(hook.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "User-Agent": "strata-webhook/1",
            [SIGNATURE_HEADER]: signBody(hook.secret, row.payload),
            [EVENT_HEADER]: row.event,
            [DELIVERY_HEADER]: row.id,
          },
          body: row.payload,
          signal: AbortSignal.timeout(options.timeoutMs),
          redirect: "manual",
        });
        status = response.status;
        await response.arrayBuffer().catch(() => undefined);
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (err) {
        error = (err as Error).message.slice(0, 500);
      }
    }
    const attempts = row.attempts + 1;
    const done = error === undefined;
    const giveUp = !done && (attempts >= options.maxAttempts || hook === undefined);
    const after = ctx.now();
    await ctx.db
      .updateTable("gallery_deliveries")
      .set({
        attempts,
        last_status: status ?? null,
        last_error: error ?? null,
        claimed_until: 0,
        state: done ? "delivered" : giveUp ? "failed" : "pending",
        delivered_at: done ? after : null,
        next_at:
          done || giveUp ? after : after + Math.min(options.backoffMs * 2 ** (attempts - 1), 3_600_000),
      })
      .where("id", "=", row.id)
      .execute();
    if (!done)
      ctx.log.warn({ delivery: row.id, webhook: row.webhook, attempts, error }, "webhook delivery failed");
  }

  return {
    kick,
    async list(filter) {
      let query = ctx.db
        .selectFrom("gallery_deliveries")
        .selectAll()
        .orderBy("created_at", "desc")
        .limit(filter.limit ?? 100);
      if (filter.galleries.length === 0) return [];
      query = query.where("gallery", "in", [...filter.galleries]);
      if (filter.state !== undefined) query = query.where("state", "=", filter.state);
      return (await query.execute()).map(toDelivery);
    },
    async get(id) {
      const row = await ctx.db
        .selectFrom("gallery_deliveries")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      return row === undefined ? undefined : toDelivery(row);
    },
    async galleryOf(id) {
      const row = await ctx.db
        .selectFrom("gallery_deliveries")
        .select("gallery")
        .where("id", "=", id)
        .executeTakeFirst();
      return row?.gallery;
    },
    async redeliver(id) {
      const result = await ctx.db
        .updateTable("gallery_deliveries")
        .set({ state: "pending", attempts: 0, next_at: ctx.now(), claimed_until: 0, delivered_at: null })
        .where("id", "=", id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async idle() {
      await runner.settled();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(wake);
      await runner.settled();
    },
  };
}

function toDelivery(r: DeliveriesTable): Delivery {
  return {
    id: r.id,
    gallery: r.gallery ?? "",
    webhook: r.webhook,
    event: r.event,
    state: r.state as Delivery["state"],
    attempts: r.attempts,
    ...(r.last_status === null ? {} : { lastStatus: r.last_status }),
    ...(r.last_error === null ? {} : { lastError: r.last_error }),
    createdAt: iso(r.created_at),
    ...(r.delivered_at === null ? {} : { deliveredAt: iso(r.delivered_at) }),
    ...(r.state === "pending" ? { nextAttemptAt: iso(r.next_at) } : {}),
    payload: JSON.parse(r.payload) as unknown,
  };
}
