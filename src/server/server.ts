// Composition root: configuration → stores → registry, metrics and the HTTP server, with
// graceful shutdown that lets in-flight requests finish within a grace period.
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import {
  bindRoutes,
  createGalleryService,
  GalleryError,
  registerGalleryApi,
  type GalleryService,
  type Identify,
} from "../gallery/index.ts";
import { MetricsRegistry } from "../lib/metrics.ts";
import {
  allowedMethods,
  createAuthenticator,
  createRegistryEvents,
  createRegistryMetrics,
  registerRegistry,
  type RegistryEvents,
  type RegistryHooks,
} from "../registry/index.ts";
import {
  canList,
  createFsBlobStore,
  createMetadataStore,
  createUploadStore,
  type MetadataStore,
} from "../store/index.ts";
import { createUsage, USAGE_ROUTES, type UsageService } from "../usage/index.ts";
import type { AdmissionDeps } from "../admission/index.ts";
import { startReconciler, type Reconciler } from "../replicate/index.ts";
import { loadAdmissionTls, startAdmissionListener, type AdmissionListener } from "./admission-listener.ts";
import { ownHosts, policyAdmission } from "./admission-policy.ts";
import type { Config } from "./config.ts";
import { parseAddr } from "./addr.ts";
import { createClientErrorHandler } from "./client-error.ts";
import { answerFrameworkError, installHttpEdge } from "./http-edge.ts";
import { lazySchemaCompilers } from "./schema-compilers.ts";
import { loadPolicySetup } from "./policy-setup.ts";
import { loadGallerySigning } from "./signing-keys.ts";
import { loadServerTls } from "./tls.ts";
import { registerSessionApi, withSessionAccess } from "./session-api.ts";
import { createWebConsole } from "./web-console.ts";

export interface StrataServer {
  readonly app: FastifyInstance;
  /** Base URL the server listens on, e.g. http://127.0.0.1:5000 (https://… with TLS) */
  readonly url: string;
  readonly meta: MetadataStore;
  readonly events: RegistryEvents;
  readonly gallery: GalleryService;
  /** The replication reconciler, when sites are configured. */
  readonly replication?: Reconciler;
  /** Pull counting, usage reports, costs and replication plans. */
  readonly usage: UsageService;
  readonly log: Logger;
  /** The admission webhooks' listener, when `admission.addr` is set. */
  readonly admission?: AdmissionListener;
  close(): Promise<void>;
}

export interface StartOptions {
  /** A logger to use instead of JSON lines on stdout. */
  readonly log?: Logger;
  /** Do not listen; for in-process tests with app.inject(). */
  readonly listen?: boolean;
  /** Resolution and policy hooks for the registry, instead of the gallery's pull path. */
  readonly hooks?: RegistryHooks;
  /** Clock of the gallery (tests of dates and schedules). */
  readonly now?: () => number;
  /** The decision and the tag resolver of the admission webhooks (default: refuse every image). */
  readonly admission?: AdmissionDeps;
  /** The built web console's folder (default: dist/web of the package). */
  readonly webRoot?: string;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<StrataServer> {
  const log = options.log ?? pino({ level: config.log.level, base: { service: "strata" } });
  // First, so that unusable TLS files stop the start before anything is opened.
  const tls = await loadServerTls(config.tls, log);
  const admissionTls = await loadAdmissionTls(config, log.child({ listener: "admission" }));
  const signing = await loadGallerySigning(config.gallery.signing);
  const metricsRegistry = new MetricsRegistry();
  // Before anything opens: a policy key that cannot be read stops the start.
  const policy = await loadPolicySetup(config, metricsRegistry);
  const dataDir = resolve(config.data);
  await mkdir(dataDir, { recursive: true });
  const meta = await createMetadataStore(config.database);
  const blobs = createFsBlobStore({ root: dataDir });
  const uploads = createUploadStore({ root: dataDir, blobs, meta });
  // Members of a gallery get registry access to its repositories by role; the gallery is
  // created below, after the authenticator it depends on.
  let galleryGrants: GalleryService["pullPath"]["grants"] = async () => [];
  const auth = await createAuthenticator(config.auth, {
    dataDir,
    grants: (user, repository) => galleryGrants(user, repository),
  });
  const events = createRegistryEvents();
  const gallery = await createGalleryService(
    { meta, blobs, log },
    {
      database: config.database,
      authEnabled: auth.enabled,
      anonymousRead: config.auth.anonymous === "read",
      canPull: (user, repository) => auth.canPull(user, repository),
      webhooks: Object.entries(config.gallery.webhooks).map(([name, hook]) => ({ name, ...hook })),
      signing,
      delivery: { backoffMs: config.gallery.delivery.backoff, timeoutMs: config.gallery.delivery.timeout },
      sweepMs: config.gallery.sweep,
      countsPulls: config.usage.enabled,
      sites: new Map(
        Object.entries(config.sites).map(([name, site]) => [
          name,
          { kind: site.kind, ...(site.region === undefined ? {} : { region: site.region }) },
        ]),
      ),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(policy === undefined ? {} : { policy }),
    },
  );
  galleryGrants = gallery.pullPath.grants;
  // Copies versions to their target sites (none configured: nothing to reconcile).
  const siteSpecs = Object.entries(config.sites).map(([name, site]) => ({ name, ...site }));
  const reconciler: Reconciler | undefined =
    siteSpecs.length === 0
      ? undefined
      : await startReconciler(
          { gallery, store: { meta, blobs }, log: log.child({ component: "replication" }) },
          { sites: siteSpecs, ...config.replication },
        );
  const usage = createUsage(gallery.access, log, {
    enabled: config.usage.enabled,
    flushMs: config.usage.flush,
    sites: { self: config.site, remote: config.sites },
  });
  // A manifest GET of a gallery version counts; the counter never waits on the request.
  if (config.usage.enabled) events.on("manifest.pulled", (event) => usage.record(event));
  const hooks: RegistryHooks = options.hooks ?? gallery.pullPath;

  const enforcer = gallery.policy;
  // A referrer added to a digest (a signature, an SBOM, provenance) may change its decisions.
  if (enforcer !== undefined)
    events.on("manifest.pushed", (event) => {
      if (event.subject !== undefined) enforcer.invalidate(event.subject);
    });
  // A referrer pushed later (a signature, an SBOM) goes to the sites holding its subject too.
  if (reconciler !== undefined)
    events.on("manifest.pushed", (event) => {
      // cosign's tags name their subject: sha256-<hex>.sig, .att, .sbom
      const tagged = /^sha256-([0-9a-f]{64})\.(?:sig|att|sbom)$/.exec(event.tag ?? "")?.[1];
      const subject = event.subject ?? (tagged === undefined ? undefined : `sha256:${tagged}`);
      if (subject !== undefined) reconciler.referrerPushed(event.repository, subject);
    });
  const registryMetrics = createRegistryMetrics(metricsRegistry);
  metricsRegistry.gauge("strata_uploads_open", "Upload sessions in progress", () => meta.uploads.count());
  metricsRegistry.gauge("strata_stored_bytes", "Bytes held in the blob pool", storedBytes());
  if (config.usage.enabled)
    metricsRegistry.gauge(
      "strata_usage_pulls_pending",
      "Pulls counted and not yet written (the next usage.flush writes them)",
      () => usage.stats()?.pending ?? 0,
    );

  const app = Fastify({
    ...(tls === undefined ? {} : { https: tls.options }),
    loggerInstance: log as FastifyBaseLogger,
    // One access-log line per request is written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    keepAliveTimeout: 75_000,
    // ajv and fast-json-stringify load only if a route declares a schema (none does).
    schemaController: { compilersFactory: lazySchemaCompilers },
    clientErrorHandler: createClientErrorHandler(log),
    frameworkErrors: answerFrameworkError,
  });
  tls?.watch(app.server);
  app.addHook("onResponse", (req, reply, done) => {
    req.log.info(
      { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      "request",
    );
    done();
  });
  app.get("/metrics", async (_req, reply) => {
    reply.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return metricsRegistry.render();
  });
  const sessions = registerSessionApi(app, auth, {
    secure: tls !== undefined,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const registry = registerRegistry(
    app,
    {
      blobs,
      uploads,
      meta,
      // The console's session cookie identifies its user for pulls and manifest deletes too.
      auth: withSessionAccess(auth, sessions.sessionOf),
      log,
      events,
      options: { manifestMaxBytes: config.limits.manifestMaxBytes },
      hooks,
    },
    { metrics: registryMetrics },
  );
  const identify: Identify = async (req) => {
    if (!auth.enabled) return {};
    // The web console's session cookie identifies its user; credentials take precedence.
    if (req.headers.authorization === undefined) {
      const session = sessions.sessionOf(req);
      return session === undefined ? {} : { user: session.user };
    }
    const result = await auth.authorize(req, { actions: [] });
    if (!result.ok) throw new GalleryError("UNAUTHORIZED", result.message);
    return { user: result.user };
  };
  registerGalleryApi(app, gallery, identify, bindRoutes(USAGE_ROUTES, usage));
  const webConsole = createWebConsole(options.webRoot === undefined ? {} : { root: options.webRoot });
  installHttpEdge(app, {
    allowedMethods: (path) => (path === "/metrics" ? ["GET"] : allowedMethods(path)),
    fallback: (req, reply) => webConsole.handle(req, reply),
  });

  const ttlMs = config.uploads.ttl;
  const sweep = setInterval(
    () => {
      uploads.expire(new Date(Date.now() - ttlMs)).then(
        (n) => n > 0 && log.info({ expired: n }, "upload sessions expired"),
        (err: unknown) => log.error({ err }, "upload expiry failed"),
      );
    },
    Math.min(Math.max(ttlMs / 10, 1000), 10 * 60_000),
  );
  sweep.unref();

  let url = "";
  if (options.listen !== false) {
    const { host, port } = parseAddr(config.addr);
    url = await app.listen({ host, port });
    log.info(
      { url, data: dataDir, database: redact(config.database), auth: auth.enabled, tls: tls !== undefined },
      "listening",
    );
  } else {
    await app.ready();
  }

  let admission: AdmissionListener | undefined;
  if (admissionTls !== undefined) {
    try {
      admission = await startAdmissionListener(config, admissionTls, {
        ...(options.admission ?? policyAdmission({ gallery, meta }, () => ownHosts(url))),
        log: log.child({ listener: "admission" }),
        listen: options.listen !== false,
      });
    } catch (error) {
      // An address in use: nothing of this start stays open.
      clearInterval(sweep);
      tls?.close();
      admissionTls.close();
      await app.close();
      await reconciler?.stop();
      await usage.close();
      await gallery.close();
      await meta.close();
      throw error;
    }
  }

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing ??= (async () => {
      clearInterval(sweep);
      tls?.close();
      const admissionClosed = admission?.close();
      const force = setTimeout(() => {
        log.warn("grace period over: closing open connections");
        app.server.closeAllConnections();
      }, config.shutdown.grace);
      force.unref();
      await app.close();
      await admissionClosed;
      // Handlers of aborted requests finish their clean-up before the database closes.
      await registry.drain();
      clearTimeout(force);
      await reconciler?.stop();
      // The pulls counted since the last write, before the database closes.
      await usage
        .close()
        .catch((err: unknown) => log.error({ err }, "counted pulls not written at shutdown"));
      await gallery.close();
      await meta.close();
      log.info("stopped");
    })();
    return closing;
  }

  function storedBytes(): () => Promise<number> {
    let cached = { at: 0, value: 0 };
    return async () => {
      if (!canList(blobs) || Date.now() - cached.at < 30_000) return cached.value;
      let total = 0;
      for await (const blob of blobs.list()) total += blob.size;
      cached = { at: Date.now(), value: total };
      return total;
    };
  }

  return {
    app,
    url,
    meta,
    events,
    gallery,
    usage,
    log,
    close,
    ...(admission === undefined ? {} : { admission }),
    ...(reconciler === undefined ? {} : { replication: reconciler }),
  };
}

function redact(database: string): string {
  return database.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
