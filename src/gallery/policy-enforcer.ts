// The policies at work: facts gathered for a manifest of this server, evaluated at a point
// (pull, run, admission, check), counted, logged and recorded. Decisions are cached per digest
// (with the repository, reference and point that shaped them) for DECISION_TTL_MS, valid only
// within one gallery generation (a version's state, a channel, a new version) and dropped at
// once when a referrer (a signature, an SBOM, provenance) is added to the digest. Nothing here
// runs when no policy is configured.
import {
  describeDecision,
  evaluate,
  type Decision,
  type ImageFacts,
  type Policy,
  type PolicyPoint,
  type PolicySpec,
} from "../policy/index.ts";
import { isDigest, parseReference, type Digest } from "../oci/index.ts";
import type { TrustedKey } from "../sign/index.ts";
import type { GalleryContext } from "./context.ts";
import { GalleryError } from "./errors.ts";
import { gatherFacts, judgedManifest, type FactsTarget } from "./policy-facts.ts";
import { policyLog } from "./policy-log.ts";
import { resolveDigest } from "./resolve.ts";

export interface PolicySetup {
  readonly policies: readonly Policy[];
  /** As configured, for the API. */
  readonly specs: readonly PolicySpec[];
  /** Keys signatures are verified with (policy.keys). */
  readonly keys: readonly TrustedKey[];
  /** ms the facts of one image may take. */
  readonly timeoutMs: number;
  /** Called with every decision, cached or not (metrics). */
  readonly onDecision?: (decision: Decision) => void;
}

/** How long a cached decision is used at most (an image ages; other servers change state). */
export const DECISION_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

export interface DecideRequest extends FactsTarget {
  readonly point: PolicyPoint;
  readonly user?: string;
  readonly namespace?: string;
}

export interface CheckAnswer {
  readonly reference: string;
  readonly outcome: Decision["outcome"];
  readonly digest?: string;
  /** The lines that count for the outcome (describeDecision). */
  readonly reasons: readonly string[];
  /** Every failed rule, audit ones included. */
  readonly failures: Decision["failures"];
  readonly decision?: Decision;
}

/** A reference of another registry, or one this server does not hold: facts of its name only. */
export function foreignFacts(
  reference: string,
  registry: string,
  repository: string,
  tag?: string,
): ImageFacts {
  const why = registry === "" ? "not held by this server" : `an image of another registry (${registry})`;
  const reason = `${why}: facts are read only of this server's content`;
  return {
    reference,
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    digest: "",
    mediaType: "",
    kind: "image",
    labels: {},
    // Not a gallery version of this server; everything else unknown.
    unavailable: { config: reason, signatures: reason, sbom: reason, provenance: reason, base: reason },
  };
}

export function createPolicyEnforcer(ctx: GalleryContext, setup: PolicySetup) {
  const log = policyLog(ctx);
  type Entry = { at: number; generation: number; decision: Decision };
  const cache = new Map<string, Map<string, Entry>>();
  let cached = 0;

  function remember(digest: string, key: string, entry: Entry): void {
    if (cached >= CACHE_MAX) {
      cache.clear();
      cached = 0;
    }
    let byDigest = cache.get(digest);
    if (byDigest === undefined) cache.set(digest, (byDigest = new Map()));
    if (!byDigest.has(key)) cached++;
    byDigest.set(key, entry);
  }

  function report(decision: Decision, request: { repository: string; user?: string }, fresh: boolean): void {
    setup.onDecision?.(decision);
    if (!fresh || (decision.outcome === "allow" && decision.failures.length === 0)) return;
    const level = decision.outcome === "deny" ? "warn" : "info";
    for (const f of decision.failures)
      ctx.log[level](
        {
          policy: f.policy,
          mode: f.mode,
          rule: f.rule,
          reason: f.reason,
          reference: decision.reference,
          digest: decision.digest,
          point: decision.point,
          outcome: decision.outcome,
          user: request.user ?? null,
        },
        "policy decision",
      );
  }

  async function record(
    decision: Decision,
    facts: ImageFacts,
    request: { repository: string; user?: string },
  ) {
    await log.record(decision, {
      repository: request.repository,
      ...(facts.gallery === undefined
        ? galleryOfRepository(request.repository)
        : { gallery: facts.gallery.gallery }),
      ...(request.user === undefined ? {} : { user: request.user }),
    });
  }

  function galleryOfRepository(repository: string): { gallery?: string } {
    const parts = repository.split("/");
    return parts.length === 2 && parts[0] !== undefined ? { gallery: parts[0] } : {};
  }

  /** The decision for a manifest of this server, from the cache when it is still valid. */
  async function decide(request: DecideRequest): Promise<Decision> {
    const key = `${request.point}\n${request.repository}\n${request.reference}\n${request.namespace ?? ""}`;
    const now = Date.now();
    const hit = cache.get(request.digest)?.get(key);
    if (hit !== undefined && hit.generation === ctx.generation.value && now - hit.at < DECISION_TTL_MS) {
      report(hit.decision, request, false);
      return hit.decision;
    }
    const generation = ctx.generation.value;
    const facts = await gatherFacts(ctx, request, { keys: setup.keys, timeoutMs: setup.timeoutMs });
    const decision = evaluate(setup.policies, facts, request.point, {
      now: ctx.now(),
      ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
    });
    remember(request.digest, key, { at: now, generation, decision });
    report(decision, request, true);
    await record(decision, facts, request);
    return decision;
  }

  /** A decision on facts the caller made (another registry's image): evaluated, reported, recorded. */
  async function decideFacts(
    facts: ImageFacts,
    point: PolicyPoint,
    extra: { user?: string; namespace?: string } = {},
  ): Promise<Decision> {
    const decision = evaluate(setup.policies, facts, point, {
      now: ctx.now(),
      ...(extra.namespace === undefined ? {} : { namespace: extra.namespace }),
    });
    const request = {
      repository: facts.repository,
      ...(extra.user === undefined ? {} : { user: extra.user }),
    };
    report(decision, request, true);
    await record(decision, facts, request);
    return decision;
  }

  /**
   * Resolves `reference` in this server's registry and decides it. A reference naming another
   * registry (`hosts` are this server's names) is decided on its name alone.
   */
  async function decideReference(
    reference: string,
    point: PolicyPoint,
    options: { hosts: readonly string[]; user?: string; namespace?: string },
  ): Promise<CheckAnswer> {
    let ref;
    try {
      ref = parseReference(reference);
    } catch (error) {
      throw new GalleryError(
        "INVALID",
        `Invalid reference ${JSON.stringify(reference.slice(0, 256))}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const extra = {
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    };
    const registry = ref.registry ?? "";
    const tag = ref.digest === undefined ? (ref.tag ?? "latest") : undefined;
    const own = registry === "" || options.hosts.includes(registry.toLowerCase());
    let digest: Digest | undefined = ref.digest;
    if (own && digest === undefined && tag !== undefined) digest = await resolveTag(ref.repository, tag);
    if (own && digest !== undefined && (await ctx.meta.manifests.get(ref.repository, digest)) === undefined)
      digest = undefined;
    if (!own || digest === undefined) {
      const decision = await decideFacts(
        foreignFacts(reference, registry, ref.repository, tag),
        point,
        extra,
      );
      return answer(reference, decision);
    }
    const decision = await decide({
      repository: ref.repository,
      reference: tag ?? digest,
      digest,
      display: reference,
      point,
      ...extra,
    });
    return answer(reference, decision);
  }

  /** What a tag of this server's registry names now: a gallery version, channel or latest, else the tag. */
  async function resolveTag(repository: string, tag: string): Promise<Digest | undefined> {
    return (
      (await resolveDigest(ctx, repository, tag)) ??
      (await ctx.meta.manifests.resolve(repository, tag))?.digest
    );
  }

  function answer(reference: string, decision: Decision): CheckAnswer {
    return {
      reference,
      outcome: decision.outcome,
      ...(decision.digest === "" ? {} : { digest: decision.digest }),
      reasons: describeDecision(decision),
      failures: decision.failures,
      decision,
    };
  }

  return {
    specs: setup.specs,
    decide,
    decideFacts,
    decideReference,
    resolveTag,

    /**
     * The pull point: a manifest a client resolves (image, index, disk) by tag or digest. Referrers
     * (a manifest with a subject that is not a disk), the `sha256-…` fallback tags and child
     * manifests of an index asked for by digest are not judged (their index was).
     */
    async checkPull(
      repository: string,
      reference: string,
      digest: Digest,
      user: string | undefined,
      manifest: { readonly artifactType?: string; readonly subject?: string } | undefined,
    ): Promise<{ deny?: string; warnings?: string[] }> {
      // No policy can apply to this repository at pull: nothing to read, nothing to decide.
      if (!setup.policies.some((p) => p.mayApply(repository, "pull"))) return {};
      if (/^sha256-[0-9a-f]{64}/.test(reference)) return {};
      const record = manifest ?? (await ctx.meta.manifests.get(repository, digest));
      if (record !== undefined && !judgedManifest(record)) return {};
      if (isDigest(reference)) {
        const holders = await ctx.meta.references.holders([digest], repository);
        if (holders.length > 0) return {};
      }
      const decision = await decide({
        repository,
        reference,
        digest,
        point: "pull",
        ...(user === undefined ? {} : { user }),
      });
      const lines = describeDecision(decision);
      if (decision.outcome === "deny")
        return { deny: `Pull of ${decision.reference} refused by policy: ${lines.join("; ")}` };
      if (decision.outcome === "warn") return { warnings: lines };
      return {};
    },

    /** Drops the cached decisions of `digest` (a referrer was added to it). */
    invalidate(digest: string): void {
      const byDigest = cache.get(digest);
      if (byDigest === undefined) return;
      cached -= byDigest.size;
      cache.delete(digest);
    },
  };
}

export type PolicyEnforcer = ReturnType<typeof createPolicyEnforcer>;
