// Errors of the OCI vocabulary: every parse failure is an OciFormatError with a code the
// registry maps to the spec's error JSON (DIGEST_INVALID, MANIFEST_INVALID, NAME_INVALID, …).

export type OciFormatCode =
  | "DIGEST_INVALID"
  | "MANIFEST_INVALID"
  | "NAME_INVALID"
  | "TAG_INVALID"
  | "REFERENCE_INVALID"
  | "CONFIG_INVALID"
  | "SIZE_INVALID";

export class OciFormatError extends Error {
  override readonly name = "OciFormatError";
  readonly code: OciFormatCode;
  readonly detail: unknown;
  constructor(code: OciFormatCode, message: string, options?: { cause?: unknown; detail?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }
}
