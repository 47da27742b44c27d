// The webhook over HTTP: POST /validate and POST /mutate take an AdmissionReview and answer one;
// GET /healthz answers 200 for probes. A body that is not an AdmissionReview v1 request, or is
// over the size limit, answers 400 `{"error": "…"}` (not a review): the API server then counts
// the call as failed and applies the webhook's failurePolicy.
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import type { AdmissionDeps, AdmissionOptions } from "./decide.ts";
import { AdmissionError } from "./errors.ts";
import { mutateRequest } from "./mutate.ts";
import { parseReview, reviewAnswer, type AdmissionRequest, type AdmissionResponse } from "./review.ts";
import { validateRequest } from "./validate.ts";

export const ADMISSION_PATHS = { validate: "/validate", mutate: "/mutate", health: "/healthz" } as const;

function answerError(error: unknown, reply: FastifyReply, bodyMaxBytes: number): FastifyReply {
  if (error instanceof AdmissionError) return reply.code(400).send({ error: error.message });
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return reply.code(400).send({
      error: `Invalid AdmissionReview: the request body is over the limit of ${bodyMaxBytes} bytes (admission.bodyMaxBytes)`,
    });
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return reply.code(400).send({ error: `Invalid request: ${fastifyError.message ?? "unreadable body"}` });
  reply.log.error({ err: error }, "admission review failed");
  return reply.code(500).send({ error: "Internal error while answering the AdmissionReview" });
}

/** Mounts the webhook routes on `app` (its own listener; see server/admission-listener.ts). */
export function registerAdmission(
  app: FastifyInstance,
  deps: AdmissionDeps,
  options: AdmissionOptions,
): void {
  void app.register(async (scope) => {
    // Every body is read as bytes, whatever its Content-Type, and parsed here for clear errors.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: options.bodyMaxBytes },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler((error, _req, reply) => answerError(error, reply, options.bodyMaxBytes));

    const answer =
      (handle: (request: AdmissionRequest) => Promise<AdmissionResponse>) =>
      async (req: { body: unknown }, reply: FastifyReply): Promise<FastifyReply> => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const request = parseReview(body);
        const response = await handle(request);
        reply.log.info(
          {
            uid: request.uid,
            kind: request.kind.kind,
            namespace: request.namespace,
            name: request.name,
            operation: request.operation,
            allowed: response.allowed,
            patched: response.patch !== undefined,
          },
          "admission review",
        );
        return reply.code(200).send(reviewAnswer(response));
      };

    scope.post(
      ADMISSION_PATHS.validate,
      answer((request) => validateRequest(request, deps.decide, options)),
    );
    scope.post(
      ADMISSION_PATHS.mutate,
      answer((request) => mutateRequest(request, deps.resolve, options)),
    );
    scope.get(ADMISSION_PATHS.health, async () => ({ ok: true }));
  });
}
