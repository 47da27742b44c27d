// Errors of the OCI client: what was asked of which registry and what it answered.

export class RemoteError extends Error {
  override readonly name = "RemoteError";
  /** The HTTP status the registry answered, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}
