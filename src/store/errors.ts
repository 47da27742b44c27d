// Storage errors: codes the registry maps to the spec's error JSON; storage knows no HTTP.

export type StoreErrorCode =
  | "BLOB_UNKNOWN"
  | "DIGEST_INVALID"
  | "SIZE_INVALID"
  | "TOO_LARGE"
  | "RANGE_INVALID"
  | "UPLOAD_UNKNOWN"
  | "CONFLICT";

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  readonly detail: unknown;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; detail?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }
}
