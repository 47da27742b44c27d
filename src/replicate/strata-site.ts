// Another Strata as a site: besides its registry, its gallery API (`/api/v1`), through which the
// copied content becomes a version there — the gallery and the definition created when missing,
// with the source's settings and metadata, then the version published from the copied digest —
// and through which the version's lifecycle (deprecation, revocation, deletion, restore)
// follows the source's. Every call is idempotent: publishing the same digest again is a no-op
// there, and a step is only asked for when the site's state differs.
import { ReplicateError } from "./errors.ts";
import type { Site } from "./site.ts";
import { lifecycleStep, type SourceLifecycle } from "./state.ts";

export interface GallerySettings {
  readonly name: string;
  readonly description: string;
  readonly mode: string;
  readonly approvals: number;
  readonly restoreDays: number;
}

export interface DefinitionSettings {
  readonly name: string;
  readonly kind: string;
  /** The definition's metadata (without its replication sites, which are this server's). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface VersionSettings {
  readonly version: string;
  readonly digest: string;
  readonly changelog?: string;
  readonly buildId?: string;
  readonly sourceRevision?: string;
  readonly owner?: string;
  /** ISO date; left out once passed (the site refuses an EOL in the past). */
  readonly eol?: string;
  readonly excludeFromLatest: boolean;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export function strataSiteApi(site: Site, options: { timeoutMs?: number } = {}) {
  const auth =
    site.username === undefined
      ? {}
      : {
          authorization: `Basic ${Buffer.from(`${site.username}:${site.password ?? ""}`).toString("base64")}`,
        };

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`${site.base}/api/v1${path}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ReplicateError(`Cannot reach site "${site.name}" (${method} ${path}): ${reason}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  }

  function fail(answer: Answer, what: string): never {
    const first = (answer.body as { errors?: { message?: string }[] } | undefined)?.errors?.[0];
    throw new ReplicateError(
      `Site "${site.name}" refused ${what}: HTTP ${answer.status}${first?.message === undefined ? "" : ` ${first.message}`}`,
      { status: answer.status },
    );
  }

  const path = (gallery: string, image?: string, version?: string): string =>
    `/galleries/${encodeURIComponent(gallery)}` +
    (image === undefined ? "" : `/images/${encodeURIComponent(image)}`) +
    (version === undefined ? "" : `/versions/${encodeURIComponent(version)}`);

  return {
    /** Creates the gallery at the site unless it exists (its existing settings are left alone). */
    async ensureGallery(gallery: GallerySettings): Promise<void> {
      const found = await call("GET", path(gallery.name));
      if (found.status === 200) return;
      if (found.status !== 404) fail(found, `to read gallery "${gallery.name}"`);
      const created = await call("POST", "/galleries", gallery);
      // Another copy may have created it meanwhile.
      if (created.status !== 201 && created.status !== 200 && created.status !== 409)
        fail(created, `to create gallery "${gallery.name}"`);
    },

    /** Creates the definition at the site unless it exists. */
    async ensureDefinition(gallery: string, definition: DefinitionSettings): Promise<void> {
      const found = await call("GET", path(gallery, definition.name));
      if (found.status === 200) return;
      if (found.status !== 404) fail(found, `to read definition "${gallery}/${definition.name}"`);
      const created = await call("POST", `${path(gallery)}/images`, {
        name: definition.name,
        kind: definition.kind,
        ...definition.metadata,
      });
      if (created.status !== 201 && created.status !== 200 && created.status !== 409)
        fail(created, `to define "${gallery}/${definition.name}"`);
    },

    /** Publishes the copied digest as the version (a no-op when it already is). */
    async publish(gallery: string, image: string, version: VersionSettings): Promise<void> {
      const { digest, ...fields } = version;
      const answer = await call("POST", `${path(gallery, image)}/versions`, {
        ...fields,
        from: `${gallery}/${image}@${digest}`,
      });
      if (answer.status !== 201 && answer.status !== 200)
        fail(answer, `to publish "${gallery}/${image}:${version.version}"`);
    },

    /** Brings the site's version to the source's lifecycle, one step at a time. */
    async mirrorLifecycle(
      key: { gallery: string; image: string; version: string },
      source: SourceLifecycle,
    ): Promise<void> {
      const at = path(key.gallery, key.image, key.version);
      for (let round = 0; round < 4; round++) {
        const found = await call("GET", at);
        if (found.status !== 200) fail(found, `to read version "${key.gallery}/${key.image}:${key.version}"`);
        const step = lifecycleStep(source, String((found.body as { state?: unknown }).state));
        if (step === undefined) return;
        let answer: Answer;
        if (step.action === "deprecate") {
          const { action: _a, ...body } = step;
          answer = await call("POST", `${at}/deprecate`, body);
          // The replacement may not be a published version there (not replicated): deprecate
          // without naming it rather than not at all.
          if (answer.status >= 400 && answer.status < 500 && body.replacement !== undefined)
            answer = await call("POST", `${at}/deprecate`, {
              reason: `${body.reason ?? "deprecated"} (replacement: ${body.replacement})`,
            });
        } else if (step.action === "revoke")
          answer = await call("POST", `${at}/revoke`, { reason: step.reason });
        else if (step.action === "delete") answer = await call("DELETE", `${at}?force=true`);
        else answer = await call("POST", `${at}/restore`, {});
        if (answer.status !== 200)
          fail(answer, `to ${step.action} "${key.gallery}/${key.image}:${key.version}"`);
      }
    },

    /** Deletes the version at the site (its copy is being removed); false when it has none. */
    async remove(key: { gallery: string; image: string; version: string }): Promise<boolean> {
      const at = path(key.gallery, key.image, key.version);
      const answer = await call("DELETE", `${at}?force=true`);
      if (answer.status === 404) return false;
      if (answer.status !== 200) fail(answer, `to delete "${key.gallery}/${key.image}:${key.version}"`);
      return true;
    },
  };
}

export type StrataSiteApi = ReturnType<typeof strataSiteApi>;
