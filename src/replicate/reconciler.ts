// The reconciler: makes each target site hold the versions that name it, from the rows of
// gallery_replicas. A pass takes the due rows — pending, failed whose retry time came, removing —
// and works each site's rows one after the other, sites side by side. A copy sends what the site
// lacks (transfer.ts) with this server's store as the source; at a Strata site the version is
// then published there and its lifecycle mirrored (strata-site.ts), and a later change of the
// source's lifecycle is mirrored by a later pass. A failure leaves the row failed with the reason
// and a retry time that doubles per attempt. At start, rows a killed server left copying are
// pending again: their blobs are HEADed first, so what arrived before is not sent again.
import type { Logger } from "pino";
import type { Readable } from "node:stream";
import type { Kysely } from "kysely";
import type { GalleryDatabase, GalleryService, ReplicasTable, StoreParts } from "../gallery/index.ts";
import { storeEndpoint } from "../gallery/index.ts";
import { isDigest, type Digest } from "../oci/index.ts";
import { RemoteError } from "../remote/index.ts";
import { serialRunner } from "../lib/serial-runner.ts";
import { ReplicateError } from "./errors.ts";
import { openSite, siteRepository, type Site, type SiteSpec } from "./site.ts";
import { retryDelay, sourceLifecycle } from "./state.ts";
import { strataSiteApi, type StrataSiteApi } from "./strata-site.ts";
import { transferVersion } from "./transfer.ts";

export interface ReconcilerOptions {
  readonly sites: readonly SiteSpec[];
  /** ms between passes besides those a change of targets causes. */
  readonly interval: number;
  /** ms before the first retry of a failed copy, doubling up to maxBackoff. */
  readonly backoff: number;
  readonly maxBackoff: number;
  /** Blobs sent to one site at once. */
  readonly concurrency: number;
  /** ms between two writes of a copy's progress. */
  readonly progressMs?: number;
}

export interface ReconcilerDeps {
  readonly gallery: Pick<GalleryService, "db" | "now" | "onReplicasChanged" | "backgroundIdle" | "changes">;
  readonly store: StoreParts;
  readonly log: Logger;
}

export interface Reconciler {
  /** Runs a pass soon (after the one running, if any). */
  kick(): void;
  /**
   * A referrer of `subject` was pushed to `repository` (a signature, an SBOM added later): the
   * completed copies of the version with that digest are made again, which sends only the new.
   */
  referrerPushed(repository: string, subject: string): void;
  /** Resolves when no due row is left (tests). */
  idle(): Promise<void>;
  /** Stops the timers and ends the running pass (a copy in flight stops and stays pending). */
  stop(): Promise<void>;
}

type Key = Pick<ReplicasTable, "gallery" | "image" | "version" | "site">;

const MESSAGE_MAX = 1000;
/** Completed copies at a site whose blobs are looked at for mounts (the newest ones). */
const MOUNT_SOURCES = 500;

export async function startReconciler(deps: ReconcilerDeps, options: ReconcilerOptions): Promise<Reconciler> {
  const db: Kysely<GalleryDatabase> = deps.gallery.db;
  const now = deps.gallery.now;
  const { log } = deps;
  const sites = new Map<string, { site: Site; api: StrataSiteApi | undefined }>(
    options.sites.map((spec) => {
      const site = openSite(spec);
      return [spec.name, { site, api: spec.kind === "strata" ? strataSiteApi(site) : undefined }];
    }),
  );
  const progressMs = options.progressMs ?? 1000;
  let stopped = false;
  /** Aborted on stop: blobs in flight end, and the copy stays pending. */
  const halt = new AbortController();

  // A server killed while copying left rows copying: they start over (what arrived is kept).
  await db
    .updateTable("gallery_replicas")
    .set({ state: "pending", next_at: now(), updated_at: now() })
    .where("state", "=", "copying")
    .execute();

  const runner = serialRunner(() => pass(), {
    stopped: () => stopped,
    onError: (err) => {
      if (!stopped) log.error({ err }, "replication pass failed");
    },
  });
  const timer = setInterval(() => kick(), options.interval);
  timer.unref();
  let wake: NodeJS.Timeout | undefined;
  const unsubscribe = deps.gallery.onReplicasChanged(() => kick());

  function kick(): void {
    runner.kick();
  }

  const where = (key: Key) =>
    db
      .updateTable("gallery_replicas")
      .where("gallery", "=", key.gallery)
      .where("image", "=", key.image)
      .where("version", "=", key.version)
      .where("site", "=", key.site);

  async function pass(): Promise<void> {
    for (;;) {
      const at = now();
      const due = await db
        .selectFrom("gallery_replicas")
        .selectAll()
        .where((eb) =>
          eb.and([eb("state", "in", ["pending", "failed", "removing"]), eb("next_at", "<=", at)]),
        )
        .orderBy("next_at")
        .limit(64)
        .execute();
      const drifted = await driftedLifecycles();
      if ((due.length === 0 && drifted.length === 0) || stopped) {
        await scheduleNext();
        return;
      }
      const bySite = new Map<string, ReplicasTable[]>();
      for (const row of [...due, ...drifted]) bySite.set(row.site, [...(bySite.get(row.site) ?? []), row]);
      await Promise.all(
        [...bySite].map(async ([name, rows]) => {
          const mounts = mountIndex(name);
          for (const row of rows) {
            if (stopped) return;
            if (row.state === "removing") await remove(row);
            else if (row.state === "completed") await mirror(row);
            else await copy(row, mounts);
          }
        }),
      );
    }
  }

  /** Wakes up when the earliest retry is due, rather than at the next interval. */
  async function scheduleNext(): Promise<void> {
    const next = await db
      .selectFrom("gallery_replicas")
      .select((eb) => eb.fn.min("next_at").as("at"))
      .where("state", "in", ["pending", "failed", "removing"])
      .executeTakeFirst();
    const at = next?.at === null || next?.at === undefined ? undefined : Number(next.at);
    if (at === undefined || stopped) return;
    clearTimeout(wake);
    wake = setTimeout(kick, Math.min(Math.max(0, at - now()) + 5, options.interval));
    wake.unref();
  }

  /** Completed copies at Strata sites whose source lifecycle changed since it was mirrored. */
  async function driftedLifecycles(): Promise<ReplicasTable[]> {
    const strata = [...sites.values()].filter((s) => s.api !== undefined).map((s) => s.site.name);
    if (strata.length === 0) return [];
    const rows = await db
      .selectFrom("gallery_replicas as r")
      .innerJoin("gallery_versions as v", (join) =>
        join
          .onRef("v.gallery", "=", "r.gallery")
          .onRef("v.image", "=", "r.image")
          .onRef("v.version", "=", "r.version"),
      )
      .selectAll("r")
      .select(["v.state as source_state", "v.deprecation", "v.revoke_reason"])
      .where("r.state", "=", "completed")
      .where("r.site", "in", strata)
      .execute();
    return rows
      .filter(
        (row) =>
          sourceLifecycle({
            state: row.source_state,
            deprecation: row.deprecation,
            revoke_reason: row.revoke_reason,
          }).fingerprint !== row.lifecycle,
      )
      .map(({ source_state: _s, deprecation: _d, revoke_reason: _r, ...row }) => row);
  }

  /**
   * The repositories of a site holding each blob, as far as this server knows: the blobs of its
   * copies completed there, read from its own store.
   */
  function mountIndex(name: string): (repository: string) => Promise<(digest: string) => string[]> {
    const entry = sites.get(name);
    let built: Promise<Map<string, string[]>> | undefined;
    const build = async (): Promise<Map<string, string[]>> => {
      const index = new Map<string, string[]>();
      if (entry === undefined) return index;
      const rows = await db
        .selectFrom("gallery_replicas")
        .select(["gallery", "image", "digest"])
        .where("site", "=", name)
        .where("state", "=", "completed")
        .orderBy("completed_at", "desc")
        .limit(MOUNT_SOURCES)
        .execute();
      for (const row of rows) {
        const there = siteRepository(entry.site, row.gallery, row.image);
        for (const digest of await reachable(`${row.gallery}/${row.image}`, row.digest)) {
          const list = index.get(digest) ?? [];
          if (!list.includes(there)) list.push(there);
          index.set(digest, list);
        }
      }
      return index;
    };
    return async (repository) => {
      const index = await (built ??= build());
      return (digest) => (index.get(digest) ?? []).filter((r) => r !== repository);
    };
  }

  /** The blobs a manifest of the store reaches through its references. */
  async function reachable(repository: string, digest: string): Promise<Set<string>> {
    const out = new Set<string>();
    const stack = [digest];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (!isDigest(next)) continue;
      const record = await deps.store.meta.manifests.get(repository, next);
      if (record === undefined) {
        out.add(next);
        continue;
      }
      for (const reference of record.references) if (!out.has(reference)) stack.push(reference);
    }
    return out;
  }

  function reason(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return message.slice(0, MESSAGE_MAX);
  }

  /** Tells the gallery's change feed that a copy's row changed (state or progress). */
  function changed(row: Key): void {
    deps.gallery.changes.publish({
      kind: "replication",
      gallery: row.gallery,
      image: row.image,
      version: row.version,
      target: row.site,
    });
  }

  async function failed(row: ReplicasTable, attempts: number, error: unknown): Promise<void> {
    const at = now();
    const wait = retryDelay(attempts, options);
    await where(row)
      .set({ state: "failed", error: reason(error), attempts, next_at: at + wait, updated_at: at })
      .where("state", "in", ["copying", "completed", "pending", "failed"])
      .execute();
    changed(row);
    log.warn(
      { gallery: row.gallery, image: row.image, version: row.version, site: row.site, attempts, err: error },
      "replication failed",
    );
  }

  async function versionRow(row: Key) {
    return db
      .selectFrom("gallery_versions")
      .selectAll()
      .where("gallery", "=", row.gallery)
      .where("image", "=", row.image)
      .where("version", "=", row.version)
      .executeTakeFirst();
  }

  async function copy(
    row: ReplicasTable,
    mounts: (repository: string) => Promise<(digest: string) => string[]>,
  ): Promise<void> {
    const entry = sites.get(row.site);
    const attempts = row.attempts + 1;
    if (entry === undefined) {
      await failed(row, attempts, new ReplicateError(`Site "${row.site}" is not configured`));
      return;
    }
    // Work a publish left for after its answer (the computed changes, attached as a referrer)
    // is waited for, so the copy carries it.
    await deps.gallery.backgroundIdle();
    const claimed = await where(row)
      .set({ state: "copying", attempts, bytes_done: 0, bytes_total: 0, updated_at: now() })
      .where("state", "=", row.state)
      .where("next_at", "=", row.next_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) return;
    changed(row);
    const { site, api } = entry;
    try {
      const version = await versionRow(row);
      if (version === undefined)
        throw new ReplicateError(`Version ${row.gallery}/${row.image}:${row.version} no longer exists`);
      if (api !== undefined) await ensureAtStrataSite(api, row);
      const repository = siteRepository(site, row.gallery, row.image);
      const source = storeEndpoint(deps.store, `${row.gallery}/${row.image}`);
      let lastWrite = 0;
      let writing: Promise<unknown> = Promise.resolve();
      const result = await transferVersion(
        source,
        row.digest,
        { client: site.client, repository },
        {
          concurrency: options.concurrency,
          openBlob: (digest): Promise<Readable> => deps.store.blobs.open(digest as Digest),
          mountFrom: await mounts(repository),
          ...(site.kind === "registry" ? { tag: row.version } : {}),
          onPlanned: async (total) => {
            await where(row)
              .set({ bytes_total: total, updated_at: now() })
              .where("state", "=", "copying")
              .execute();
            changed(row);
          },
          signal: halt.signal,
          onBytes: (done) => {
            const at = now();
            if (at - lastWrite < progressMs) return;
            lastWrite = at;
            writing = writing.then(async () => {
              await where(row)
                .set({ bytes_done: done, updated_at: at })
                .where("state", "=", "copying")
                .execute();
              changed(row);
            });
          },
        },
      );
      await writing;
      let lifecycle: string | null = null;
      if (api !== undefined) {
        await api.publish(row.gallery, row.image, {
          version: row.version,
          digest: row.digest,
          ...versionSettings(version),
        });
        const { lifecycle: source, fingerprint } = sourceLifecycle(version);
        await api.mirrorLifecycle(row, source);
        lifecycle = fingerprint;
      }
      const at = now();
      await where(row)
        .set({
          state: "completed",
          bytes_done: result.blobs.bytesSent,
          error: null,
          completed_at: at,
          updated_at: at,
          lifecycle,
        })
        .where("state", "=", "copying")
        .execute();
      changed(row);
      log.info(
        { gallery: row.gallery, image: row.image, version: row.version, site: row.site, ...result.blobs },
        "version replicated",
      );
    } catch (error) {
      if (stopped) {
        // Left for the next start, which sends what did not arrive.
        await where(row)
          .set({ state: "pending", updated_at: now() })
          .where("state", "=", "copying")
          .execute();
        return;
      }
      await failed(row, attempts, error);
    }
  }

  /** The gallery and definition at a Strata site, created when missing with the source's settings. */
  async function ensureAtStrataSite(api: StrataSiteApi, row: Key): Promise<void> {
    const gallery = await db
      .selectFrom("gallery_galleries")
      .selectAll()
      .where("name", "=", row.gallery)
      .executeTakeFirst();
    const definition = await db
      .selectFrom("gallery_images")
      .selectAll()
      .where("gallery", "=", row.gallery)
      .where("name", "=", row.image)
      .executeTakeFirst();
    if (gallery === undefined || definition === undefined)
      throw new ReplicateError(`Definition ${row.gallery}/${row.image} no longer exists`);
    await api.ensureGallery({
      name: gallery.name,
      description: gallery.description,
      mode: gallery.mode,
      approvals: gallery.approvals,
      restoreDays: gallery.restore_days,
    });
    const { replicateTo: _r, ...metadata } = JSON.parse(definition.metadata) as Record<string, unknown>;
    await api.ensureDefinition(gallery.name, { name: definition.name, kind: definition.kind, metadata });
  }

  function versionSettings(version: NonNullable<Awaited<ReturnType<typeof versionRow>>>) {
    const metadata = JSON.parse(version.metadata) as Record<string, unknown>;
    const text = (name: string) =>
      typeof metadata[name] === "string" ? { [name]: metadata[name] as string } : {};
    const eol = version.eol === null ? undefined : Number(version.eol);
    return {
      ...text("changelog"),
      ...text("buildId"),
      ...text("sourceRevision"),
      ...text("owner"),
      ...(eol !== undefined && eol > now() + 60_000 ? { eol: new Date(eol).toISOString() } : {}),
      excludeFromLatest: version.exclude_from_latest !== 0,
    };
  }

  /** Mirrors a changed source lifecycle to a Strata site. */
  async function mirror(row: ReplicasTable): Promise<void> {
    const api = sites.get(row.site)?.api;
    const version = await versionRow(row);
    if (api === undefined || version === undefined) return;
    const { lifecycle, fingerprint } = sourceLifecycle(version);
    try {
      await api.mirrorLifecycle(row, lifecycle);
      await where(row)
        .set({ lifecycle: fingerprint, updated_at: now() })
        .where("state", "=", "completed")
        .execute();
      log.info(
        {
          gallery: row.gallery,
          image: row.image,
          version: row.version,
          site: row.site,
          state: lifecycle.state,
        },
        "lifecycle mirrored",
      );
    } catch (error) {
      // A full copy again later: it ends with the lifecycle.
      await failed(row, row.attempts + 1, error);
    }
  }

  /** Removes the copy from the site, then the row. */
  async function remove(row: ReplicasTable): Promise<void> {
    const entry = sites.get(row.site);
    try {
      if (entry !== undefined) {
        const { site, api } = entry;
        if (api !== undefined) await api.remove(row);
        const repository = siteRepository(site, row.gallery, row.image);
        try {
          await site.client.deleteManifest(repository, row.digest);
        } catch (error) {
          // A Strata site keeps a deleted version's content until its own sweep purges it.
          if (!(
            api !== undefined &&
            error instanceof RemoteError &&
            error.status !== undefined &&
            error.status < 500
          ))
            throw error;
        }
      }
      await db
        .deleteFrom("gallery_replicas")
        .where("gallery", "=", row.gallery)
        .where("image", "=", row.image)
        .where("version", "=", row.version)
        .where("site", "=", row.site)
        .where("state", "=", "removing")
        .execute();
      changed(row);
      log.info(
        { gallery: row.gallery, image: row.image, version: row.version, site: row.site },
        "replica removed",
      );
    } catch (error) {
      const at = now();
      const attempts = row.attempts + 1;
      await where(row)
        .set({ error: reason(error), attempts, next_at: at + retryDelay(attempts, options), updated_at: at })
        .where("state", "=", "removing")
        .execute();
      log.warn(
        { gallery: row.gallery, image: row.image, version: row.version, site: row.site, err: error },
        "replica removal failed",
      );
    }
  }

  kick();
  return {
    kick,
    referrerPushed(repository, subject) {
      const [gallery, image, ...rest] = repository.split("/");
      if (gallery === undefined || image === undefined || rest.length > 0 || stopped) return;
      const at = now();
      db.updateTable("gallery_replicas")
        .set({ state: "pending", next_at: at, attempts: 0, updated_at: at })
        .where("gallery", "=", gallery)
        .where("image", "=", image)
        .where("digest", "=", subject)
        .where("state", "=", "completed")
        .execute()
        .then(
          (result) => {
            if (result.some((r) => Number(r.numUpdatedRows) > 0)) kick();
          },
          (err: unknown) => log.error({ err }, "replication of a new referrer not queued"),
        );
    },
    async idle() {
      await runner.settled();
    },
    async stop() {
      stopped = true;
      halt.abort();
      unsubscribe();
      clearInterval(timer);
      clearTimeout(wake);
      await runner.settled();
    },
  };
}
