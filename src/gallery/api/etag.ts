// Conditional reads of the API: every successful GET answers its JSON with a strong ETag (a hash
// of the exact bytes sent), and a request whose If-None-Match names it gets 304 with no body, so
// a client polling for changes (the web console) downloads an answer only when it changed.
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/** `"<32 hex digits of SHA-256>"`: strong, since the same bytes always give the same tag. */
export function etagOf(text: string): string {
  return `"${createHash("sha256").update(text).digest("hex").slice(0, 32)}"`;
}

/**
 * Whether If-None-Match names the tag: `*`, or a list of tags compared weakly (RFC 9110 §13.1.2:
 * `W/"x"` matches `"x"`).
 */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, "");
  const wanted = bare(etag);
  return header.split(",").some((tag) => tag.trim() === "*" || bare(tag) === wanted);
}

/**
 * Sends `body` as JSON with its ETag and `cacheControl`, or 304 when the request's If-None-Match
 * names that ETag. `Vary` names the headers that identify the caller, whose role shapes answers.
 */
export function sendConditionalJson(
  req: FastifyRequest,
  reply: FastifyReply,
  body: unknown,
  cacheControl: string,
): FastifyReply {
  const text = JSON.stringify(body);
  const etag = etagOf(text);
  reply.header("ETag", etag).header("Cache-Control", cacheControl).header("Vary", "Authorization, Cookie");
  const header = req.headers["if-none-match"];
  if (noneMatchHits(Array.isArray(header) ? header.join(",") : header, etag)) return reply.code(304).send();
  return reply.code(200).header("Content-Type", "application/json; charset=utf-8").send(text);
}
