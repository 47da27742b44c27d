// Errors of the SBOM domain. A database error names the file and, when it has one, the line:
// `/var/lib/dpkg/status:120: field "Version" is longer than 65536 bytes`.

export class SbomError extends Error {
  override readonly name = "SbomError";
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
