// Moves a body through a transform into a sink. Unlike stream.pipeline, a failure downstream
// (size cap, digest mismatch, disk error) does not destroy the body: reading stops and the body
// is left, paused, to its owner, so an HTTP layer can still answer on the same connection. A
// failure of the body itself (error or premature close) fails the whole chain.
import { type Readable, type Transform, type Writable, finished } from "node:stream";
import { pipeline } from "node:stream/promises";

export async function pump(body: Readable, through: Transform, sink: Writable): Promise<void> {
  if (body.errored !== null) throw body.errored;
  if (body.readableEnded) {
    through.end();
  } else {
    body.pipe(through);
  }
  const stopWatching = finished(body, { writable: false }, (error) => {
    if (error !== undefined && error !== null) through.destroy(error);
  });
  try {
    await pipeline(through, sink);
  } finally {
    stopWatching();
    body.unpipe(through);
  }
}
