// Pull counting off the request path: a manifest GET of a gallery version's repository adds one
// to an in-memory counter per version, site and UTC day; a timer writes every counter in one
// transaction (an upsert adding to the stored count), and close() writes what is left. Which
// version a pulled digest is is read from the gallery once and cached, so a pull costs a map
// lookup and an increment; the lookup of an unknown digest runs after the answer went out.
//
// What a crash loses: the pulls counted since the last write (at most one flush interval).
import type { Logger } from "pino";
import { sql } from "kysely";
import type { GalleryAccess } from "../gallery/index.ts";
import { utcDay } from "./days.ts";

export interface PulledEvent {
  readonly repository: string;
  /** As asked: a tag (a version number, a channel, latest) or the digest. */
  readonly reference: string;
  readonly digest: string;
}

export interface PullCounterOptions {
  /** This site's name: the counters' `site`. */
  readonly site: string;
  /** ms between writes. */
  readonly flushMs: number;
}

export interface PullCounter {
  /** Counts one pull; never waits and never throws. */
  record(event: PulledEvent): void;
  /** Writes every counted pull now; resolves when they are in the database. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
  /** Writes so far (transactions) and pulls written, for tests and metrics. */
  stats(): { readonly flushes: number; readonly written: number; readonly pending: number };
}

interface Counter {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly day: number;
  count: number;
  lastAt: number;
}

/** Versions of a repository pinning a digest, the one to count first. */
interface Pinning {
  readonly at: number;
  readonly generation: number;
  readonly gallery: string;
  readonly image: string;
  readonly versions: readonly string[];
}

/** How long what was read about a digest is trusted (publications on other servers). */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;
/** Rows per insert statement (SQLite limits the parameters of one statement). */
const ROWS_PER_STATEMENT = 500;

export function createPullCounter(
  access: GalleryAccess,
  log: Logger,
  options: PullCounterOptions,
): PullCounter {
  let counters = new Map<string, Counter>();
  const cache = new Map<string, Pinning>();
  /** Pulls waiting for the lookup of their digest, by cache key. */
  const waiting = new Map<string, { reference: string; at: number }[]>();
  const lookups = new Set<Promise<void>>();
  let flushing: Promise<void> = Promise.resolve();
  let flushes = 0;
  let written = 0;
  let closed = false;

  function add(pinning: Pinning, reference: string, at: number): void {
    const version = pinning.versions.includes(reference) ? reference : pinning.versions[0];
    if (version === undefined) return;
    const day = utcDay(at);
    const key = `${pinning.gallery}\0${pinning.image}\0${version}\0${day}`;
    const counter = counters.get(key);
    if (counter === undefined) {
      counters.set(key, {
        gallery: pinning.gallery,
        image: pinning.image,
        version,
        day,
        count: 1,
        lastAt: at,
      });
    } else {
      counter.count += 1;
      if (at > counter.lastAt) counter.lastAt = at;
    }
  }

  async function lookup(key: string, repository: string, digest: string): Promise<void> {
    const slash = repository.indexOf("/");
    const gallery = repository.slice(0, slash);
    const image = repository.slice(slash + 1);
    const generation = access.generation.value;
    let versions: string[] = [];
    try {
      const rows = await access.db
        .selectFrom("gallery_versions")
        .select(["version", "state", "major", "minor", "patch"])
        .where("gallery", "=", gallery)
        .where("image", "=", image)
        .where("digest", "=", digest)
        .execute();
      // A digest several versions pin counts for the newest that is not deleted, unless the
      // pull names one of them.
      versions = rows
        .sort(
          (a, b) =>
            Number(a.state === "deleted") - Number(b.state === "deleted") ||
            Number(b.major) - Number(a.major) ||
            Number(b.minor) - Number(a.minor) ||
            Number(b.patch) - Number(a.patch),
        )
        .map((r) => r.version);
    } catch (err) {
      // Counted as nothing rather than failing anything: the database is what serves pulls too.
      log.warn({ err, repository }, "pull not counted: version lookup failed");
      waiting.delete(key);
      return;
    }
    const pinning: Pinning = { at: Date.now(), generation, gallery, image, versions };
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, pinning);
    for (const pull of waiting.get(key) ?? []) add(pinning, pull.reference, pull.at);
    waiting.delete(key);
  }

  function record(event: PulledEvent): void {
    // Gallery repositories are exactly `<gallery>/<image>`.
    const slash = event.repository.indexOf("/");
    if (slash <= 0 || event.repository.indexOf("/", slash + 1) >= 0) return;
    const at = access.now();
    const key = `${event.repository}@${event.digest}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.generation === access.generation.value && Date.now() - hit.at < CACHE_MS) {
      add(hit, event.reference, at);
      return;
    }
    const queued = waiting.get(key);
    if (queued !== undefined) {
      queued.push({ reference: event.reference, at });
      return;
    }
    waiting.set(key, [{ reference: event.reference, at }]);
    const done = lookup(key, event.repository, event.digest).finally(() => lookups.delete(done));
    lookups.add(done);
  }

  async function write(batch: readonly Counter[]): Promise<void> {
    const greatest = access.dialect === "postgres" ? sql.raw("greatest") : sql.raw("max");
    await access.db.transaction().execute(async (trx) => {
      for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
        await trx
          .insertInto("gallery_pulls")
          .values(
            batch.slice(i, i + ROWS_PER_STATEMENT).map((c) => ({
              gallery: c.gallery,
              image: c.image,
              version: c.version,
              site: options.site,
              day: c.day,
              count: c.count,
              last_at: c.lastAt,
            })),
          )
          .onConflict((oc) =>
            oc.columns(["gallery", "image", "version", "site", "day"]).doUpdateSet({
              count: sql<number>`gallery_pulls.count + excluded.count`,
              last_at: sql<number>`${greatest}(gallery_pulls.last_at, excluded.last_at)`,
            }),
          )
          .execute();
      }
    });
  }

  async function flushNow(): Promise<void> {
    while (lookups.size > 0) await Promise.all([...lookups]);
    if (counters.size === 0) return;
    const batch = [...counters.values()];
    counters = new Map();
    try {
      await write(batch);
      flushes += 1;
      for (const c of batch) written += c.count;
    } catch (error) {
      // Nothing is dropped: the batch goes back into the counters for the next write.
      for (const c of batch) {
        const key = `${c.gallery}\0${c.image}\0${c.version}\0${c.day}`;
        const now = counters.get(key);
        if (now === undefined) counters.set(key, c);
        else {
          now.count += c.count;
          now.lastAt = Math.max(now.lastAt, c.lastAt);
        }
      }
      throw error;
    }
  }

  function flush(): Promise<void> {
    // One write at a time: the next starts when the one before ended, failed or not.
    const next = flushing.catch(() => undefined).then(flushNow);
    flushing = next;
    return next;
  }

  const timer = setInterval(() => {
    flush().catch((err: unknown) => log.error({ err }, "counted pulls not written: kept for the next write"));
  }, options.flushMs);
  timer.unref();

  return {
    record(event) {
      if (!closed) record(event);
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
    stats() {
      let pending = 0;
      for (const c of counters.values()) pending += c.count;
      for (const list of waiting.values()) pending += list.length;
      return { flushes, written, pending };
    },
  };
}
