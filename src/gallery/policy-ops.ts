// The policies as the API offers them: the configured list (any signed-in user), the decision
// log (policy-log.ts says who reads what), and a check of references at the `check` or `run`
// point — each reference of this server's registry must be one the caller may pull, so a check
// tells nothing about content the caller cannot read.
import { parseReference } from "../oci/index.ts";
import type { PolicyPoint, PolicySpec } from "../policy/index.ts";
import type { Actor, GalleryContext } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import type { CheckAnswer, PolicyEnforcer } from "./policy-enforcer.ts";
import { policyLog, type DecisionQuery } from "./policy-log.ts";

export interface CheckRequest {
  readonly references: readonly string[];
  readonly point: Extract<PolicyPoint, "check" | "run">;
  /** The names this server is reached by (the request's Host), so `HOST/repo:tag` counts as its own. */
  readonly hosts: readonly string[];
}

export function policyOps(
  ctx: GalleryContext,
  enforcer: PolicyEnforcer | undefined,
  specs: readonly PolicySpec[],
) {
  const log = policyLog(ctx);
  const signedIn = (actor: Actor): void => {
    if (ctx.authEnabled && actor.user === undefined)
      throw new GalleryError("UNAUTHORIZED", "Authentication required");
  };

  return {
    async list(actor: Actor): Promise<readonly PolicySpec[]> {
      signedIn(actor);
      return specs;
    },

    decisions: (actor: Actor, query: DecisionQuery) => log.list(actor, query),

    async check(actor: Actor, request: CheckRequest): Promise<Omit<CheckAnswer, "decision">[]> {
      signedIn(actor);
      const out: Omit<CheckAnswer, "decision">[] = [];
      for (const reference of request.references) {
        let repository: string;
        let registry: string | undefined;
        try {
          ({ repository, registry } = parseReference(reference));
        } catch (error) {
          throw new GalleryError(
            "INVALID",
            `Invalid reference ${q(reference.slice(0, 256))}: ${(error as Error).message}`,
            {
              cause: error,
              detail: { reference: reference.slice(0, 256) },
            },
          );
        }
        const own = registry === undefined || request.hosts.includes(registry.toLowerCase());
        if (own && !(await ctx.canPull(actor.user, repository)))
          throw new GalleryError(
            "FORBIDDEN",
            `User ${q(actor.user ?? "anonymous")} may not pull ${q(repository)}`,
            {
              detail: { reference },
            },
          );
        if (enforcer === undefined) {
          out.push({ reference, outcome: "allow", reasons: [], failures: [] });
          continue;
        }
        const a = await enforcer.decideReference(reference, request.point, {
          hosts: request.hosts,
          ...(actor.user === undefined ? {} : { user: actor.user }),
        });
        out.push({
          reference: a.reference,
          outcome: a.outcome,
          ...(a.digest === undefined ? {} : { digest: a.digest }),
          reasons: a.reasons,
          failures: a.failures,
        });
      }
      return out;
    },
  };
}
