// Registry errors: handlers throw these (or OCI/store errors); error-response.ts turns every
// error into the spec's JSON in one place.
import { ERROR_CATALOGUE, type ErrorCode } from "./error-catalogue.ts";

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; detail?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? ERROR_CATALOGUE[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}
