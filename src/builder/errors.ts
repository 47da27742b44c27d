// Errors of the builder. A Containerfile error names the file and line, as compilers do:
// `Containerfile:12: unknown instruction "FRUM"`.

export class BuildError extends Error {
  override readonly name = "BuildError";
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, options: { file?: string; line?: number; cause?: unknown } = {}) {
    const where =
      options.file === undefined
        ? ""
        : `${options.file}${options.line === undefined ? "" : `:${options.line}`}: `;
    super(`${where}${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
    this.line = options.line;
  }
}
