// Errors a command ends with: usage errors (exit 2, nothing was sent) and failures (exit 1).

export class CliError extends Error {
  override readonly name = "CliError";
  /** The HTTP status of the server's error answer, when the error is one. */
  readonly status: number | undefined;
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status;
  }
}

/** Bad local input: nothing was sent to the server. */
export const usageError = (message: string): CliError => new CliError(message, 2);
