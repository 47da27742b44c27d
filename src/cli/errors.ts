// Errors a command ends with: usage errors (exit 2, nothing was sent) and failures (exit 1).

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad local input: nothing was sent to the server. */
export const usageError = (message: string): CliError => new CliError(message, 2);
