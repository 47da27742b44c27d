// Errors of the runner: `usage` marks those caused by how it was asked (exit status 2).
export class RunError extends Error {
  override readonly name = "RunError";
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}
