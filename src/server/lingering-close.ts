// Closing a connection whose client may still be sending, without resetting it (RFC 9112 §9.6).
// Destroying a socket that has unread input makes the kernel answer with a reset, and a client
// still writing its body then sees EPIPE or ECONNRESET and often never reads the answer that was
// already on its way (a 413 for an oversized manifest, a 400 for broken framing). So the answer
// is written, the sending side is closed (FIN), and whatever still arrives is read and dropped
// until the client closes its side, or a bounded number of bytes or a bounded time has passed;
// only then is the socket destroyed.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";

export interface LingerLimits {
  /** Bytes read and dropped at most after the answer before the socket is destroyed. */
  readonly maxBytes: number;
  /** Time at most between the answer and the socket's end. */
  readonly maxMs: number;
}

/** Enough to take in an oversized manifest or a small blob a client insists on sending. */
export const LINGER_LIMITS: LingerLimits = { maxBytes: 16 * 1024 * 1024, maxMs: 10_000 };

const lingering = new WeakSet<Duplex>();

/** True once lingeringClose() took the socket over: nothing more may be written to it. */
export function isLingering(socket: Duplex): boolean {
  return lingering.has(socket);
}

/**
 * Ends the socket after what is already written, then reads and drops input until the client
 * closes or a limit is reached.
 */
export function lingeringClose(socket: Duplex, limits: LingerLimits = LINGER_LIMITS): void {
  if (socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  const start = bytesRead(socket);
  const close = (): void => {
    clearTimeout(timer);
    clearInterval(meter);
    socket.destroy();
  };
  const timer = setTimeout(close, limits.maxMs);
  timer.unref();
  // The input keeps going where it went: node's HTTP parser, which discards the body of a
  // request already answered, and everything after a parse error. Only the amount is watched.
  const meter = setInterval(() => {
    if (bytesRead(socket) - start > limits.maxBytes) close();
  }, 50);
  meter.unref();
  socket.once("end", close);
  socket.once("close", () => {
    clearTimeout(timer);
    clearInterval(meter);
  });
  socket.on("error", close);
  socket.end();
  socket.resume();
}

function bytesRead(socket: Duplex): number {
  return (socket as Partial<Socket>).bytesRead ?? 0;
}

/**
 * Makes node's HTTP server close this socket with lingeringClose() when it would destroy it
 * after a last response (one sent with `Connection: close`).
 */
export function lingerOnLastResponse(socket: Socket): void {
  socket.destroySoon = () => lingeringClose(socket);
}
