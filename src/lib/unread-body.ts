// Whether a request still has body bytes on the wire. Routing runs as soon as the headers are
// parsed, so `complete` alone is false even for a GET whose request has ended: a body is
// expected only with Transfer-Encoding or a Content-Length other than 0.
import type { IncomingMessage } from "node:http";

export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}
