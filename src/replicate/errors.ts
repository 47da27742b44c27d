// Errors of replication: what a site answered or why a copy could not be made. The message is
// what a failed copy's status shows.

export class ReplicateError extends Error {
  override readonly name = "ReplicateError";
  /** The HTTP status the site answered, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}
