// One gallery test server per suite: users alice (creates galleries), bob (approver), carol
// (publisher), dave (reader) and eve (no role); a webhook receiver; a clock tests can move.
import { after, before } from "node:test";
import { createHmac } from "node:crypto";
import assert from "node:assert/strict";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";
import { authYaml, basic, galleryApi, pushImage, type ApiAnswer } from "../../helpers/gallery.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../helpers/webhook-receiver.ts";

export const USERS = ["alice", "bob", "carol", "dave", "eve"] as const;
export const SECRET = "webhook-secret";

export interface Harness {
  readonly server: InProcess;
  readonly hooks: WebhookReceiver;
  api(method: string, path: string, body?: unknown, user?: string): Promise<ApiAnswer>;
  push(repository: string, tag: string, seed: string, annotations?: Record<string, string>): Promise<string>;
  /** GET (or HEAD) of a manifest through the registry as alice. */
  pull(
    repository: string,
    reference: string,
    method?: "GET" | "HEAD",
  ): Promise<{ status: number; digest?: string; warning?: string; body: string }>;
  /** The server's metadata database URL. */
  readonly databaseUrl: string;
  /** Moves the gallery clock forward. */
  advance(ms: number): void;
  /** A gallery with alice admin, bob approver, carol publisher, dave reader, and one definition. */
  setup(gallery: string, image?: string, settings?: Record<string, unknown>): Promise<void>;
  /** Publishes a fresh image as `version` of gallery/image; returns its digest. */
  publish(gallery: string, image: string, version: string, extra?: Record<string, unknown>): Promise<string>;
}

/** Registers before/after hooks and returns the harness (usable inside tests). */
export function useHarness(database: () => Promise<string | undefined>): Harness {
  let server: InProcess | undefined;
  let hooks: WebhookReceiver | undefined;
  let offset = 0;
  let databaseUrl = "";
  let seeds = 0;
  before(async () => {
    hooks = await startWebhookReceiver();
    const url = await database();
    const yaml = await authYaml(
      [...USERS],
      // The sweep runs when a test calls it, never on its own in the middle of one.
      `gallery:\n  webhooks:\n    ci: { url: "${hooks.url}", secret: "${SECRET}" }\n  delivery: { backoff: 50ms, timeout: 5s }\n  sweep: 1d\n`,
    );
    server = await startInProcess({
      yaml,
      ...(url === undefined ? {} : { database: url }),
      now: () => Date.now() + offset,
    });
    databaseUrl = url ?? `sqlite:${server.dataDir}/data/strata.db`;
  });
  after(async () => {
    await server?.stop();
    await hooks?.close();
  });
  const h: Harness = {
    get server() {
      if (server === undefined) throw new Error("harness not started");
      return server;
    },
    get databaseUrl() {
      return databaseUrl;
    },
    get hooks() {
      if (hooks === undefined) throw new Error("harness not started");
      return hooks;
    },
    api: (method, path, body, user) => galleryApi(h.server.server.app)(method, path, body, user),
    push: (repository, tag, seed, annotations) =>
      pushImage(h.server.server.app, repository, tag, seed, {
        user: "alice",
        ...(annotations === undefined ? {} : { annotations }),
      }),
    async pull(repository, reference, method = "GET") {
      const res = await h.server.server.app.inject({
        method,
        url: `/v2/${repository}/manifests/${reference}`,
        headers: { authorization: basic("alice") },
      });
      const digest = res.headers["docker-content-digest"];
      const warning = res.headers.warning;
      return {
        status: res.statusCode,
        ...(typeof digest === "string" ? { digest } : {}),
        ...(typeof warning === "string" ? { warning } : {}),
        body: res.body,
      };
    },
    advance(ms) {
      offset += ms;
    },
    async setup(gallery, image = "web", settings = {}) {
      const g = await h.api(
        "POST",
        "/galleries",
        { name: gallery, members: { bob: "approver", carol: "publisher", dave: "reader" }, ...settings },
        "alice",
      );
      assert.equal(g.status, 201, JSON.stringify(g.body));
      const i = await h.api(
        "POST",
        `/galleries/${gallery}/images`,
        { name: image, kind: "container", os: "linux", arch: "amd64" },
        "alice",
      );
      assert.equal(i.status, 201, JSON.stringify(i.body));
    },
    async publish(gallery, image, version, extra = {}) {
      const digest = await h.push(
        `builds/${gallery}-${image}`,
        `b${++seeds}`,
        `${gallery}/${image}/${version}/${seeds}`,
      );
      const r = await h.api(
        "POST",
        `/galleries/${gallery}/images/${image}/versions`,
        { version, from: `builds/${gallery}-${image}@${digest}`, ...extra },
        "alice",
      );
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return digest;
    },
  };
  return h;
}

export function verifySignature(headers: Record<string, unknown>, body: string): boolean {
  const expected = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  return headers["x-strata-signature"] === expected;
}

/** The first error of an API error answer. */
export function apiError(answer: ApiAnswer): { code: string; message: string } {
  return (
    (answer.body as { errors: { code: string; message: string }[] }).errors[0] ?? { code: "", message: "" }
  );
}
