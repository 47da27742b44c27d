// GET /api/v1/events: the gallery's change feed as server-sent events (text/event-stream). Each
// change this server makes in a gallery the caller may read is sent as an event `change` with
// its gallery, definition, version, kind and target; changes of other galleries are never sent.
// A comment line every HEARTBEAT_MS keeps proxies from closing an idle stream (and, for a
// session, ends the stream once the session is gone); at shutdown every stream is ended before
// the server waits for its connections, so open streams never hold up a graceful stop.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Actor } from "../context.ts";
import type { GalleryChange } from "../change-feed.ts";
import type { GalleryService } from "../service.ts";

/** The API's identification of the caller (register.ts's Identify). */
type Identify = (req: { headers: FastifyRequest["headers"]; baseUrl: string }) => Promise<Actor>;

export const EVENTS_PATH = "/events";
export const HEARTBEAT_MS = 15_000;
/** How long a client waits before reconnecting after the stream ends (the `retry` field). */
const RETRY_MS = 3000;

/** Kinds of change after which the caller's set of readable galleries is read again. */
const MEMBERSHIP = /^(?:gallery|member)\./;

export interface EventStreams {
  /** Streams open now. */
  readonly open: () => number;
}

export function registerEventStream(
  app: FastifyInstance,
  api: FastifyInstance,
  deps: { service: GalleryService; identify: Identify; heartbeatMs?: number },
): EventStreams {
  const { service, identify } = deps;
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  const streams = new Set<() => Promise<void>>();

  // Before the server stops accepting and waits for its connections: each stream ends, and its
  // connection, idle once the answer is finished, closes with the others.
  app.addHook("preClose", async () => {
    await Promise.all([...streams].map((end) => end()));
  });

  api.get(EVENTS_PATH, async (req, reply) => {
    // Where the server grants anonymous reads, every caller reads every gallery (as on the
    // API's anonymous read routes), so anonymous readers get the stream of every gallery too.
    const whoIs = async (): Promise<Actor> => {
      const actor = await identify({ headers: req.headers, baseUrl: baseUrlOf(req) });
      return service.authEnabled && service.anonymousRead ? { ...actor, anonymousReader: true } : actor;
    };
    const actor = await whoIs();
    // Throws UNAUTHORIZED for an anonymous caller when authentication is on.
    let readable = new Set(await service.access.readableGalleries(actor));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    res.write("event: ready\ndata: {}\n\n");

    let ended = false;
    let queue: Promise<void> = Promise.resolve();
    // Nothing is written once the stream ended (a write after the end would be an error).
    const send = (text: string): void => {
      if (!ended && !res.writableEnded && !res.destroyed) res.write(text);
    };
    // Ends the answer, then its connection: a keep-alive connection that a client left without
    // closing would otherwise hold a stopping server until it times out.
    const end = async (): Promise<void> => {
      if (!ended) {
        ended = true;
        cleanUp();
        res.end();
      }
      if (!res.writableFinished && !res.destroyed)
        await new Promise<void>((resolve) => {
          res.once("finish", resolve);
          res.once("close", resolve);
        });
      req.raw.socket?.destroy();
    };
    const deliver = async (change: GalleryChange): Promise<void> => {
      const before = readable;
      if (MEMBERSHIP.test(change.kind)) readable = new Set(await service.access.readableGalleries(actor));
      const mayRead =
        readable.has(change.gallery) || (change.kind === "gallery.removed" && before.has(change.gallery));
      if (mayRead) send(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    };
    const unsubscribe = service.changes.subscribe((change) => {
      queue = queue.then(() => deliver(change)).catch(() => void end());
    });
    // A session (no Authorization header) can end while the stream is open: signed out or
    // expired. Credentials in the header stay what they were.
    const bySession = req.headers.authorization === undefined;
    const heartbeat = setInterval(() => {
      if (!bySession) {
        send(": heartbeat\n\n");
        return;
      }
      whoIs().then(
        (now) => (now.user === actor.user ? send(": heartbeat\n\n") : void end()),
        () => void end(),
      );
    }, heartbeatMs);
    heartbeat.unref();
    function cleanUp(): void {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(end);
    }
    streams.add(end);
    res.on("error", () => void end());
    res.once("close", () => {
      ended = true;
      cleanUp();
    });
  });

  return { open: () => streams.size };
}

function baseUrlOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

/** The route in the OpenAPI document (it answers a stream, so it is not in the route table). */
export const EVENTS_OPENAPI = {
  get: {
    operationId: "streamEvents",
    summary: "Changes made through this server in the galleries the caller may read, as server-sent events",
    description:
      'An event `change` per change, its data `{"kind","gallery","image"?,"version"?,"target"?,"at"}` (kind: the audit action, or `replication` for a copy\'s state and progress); an event `ready` once subscribed; a comment line every 15 s. Changes made by other servers sharing the database are not sent.',
    tags: ["events"],
    parameters: [],
    responses: {
      "200": {
        description: "The event stream",
        content: { "text/event-stream": { schema: { type: "string" } } },
      },
      "401": {
        description: "Authentication required",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    },
  },
} as const;
