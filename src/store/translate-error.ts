// Turns the verifying stream's OciFormatError into a StoreError with the operation as context:
// `Cannot store blob "sha256:…": digest mismatch: expected sha256:…, got sha256:…`.
import { OciFormatError } from "../oci/index.ts";
import { StoreError, type StoreErrorCode } from "./errors.ts";

export function translateError(error: unknown, context: string): unknown {
  if (!(error instanceof OciFormatError)) return error;
  return new StoreError(codeOf(error), `${context}: ${lowerFirst(error.message)}`, {
    cause: error,
    detail: error.detail,
  });
}

function codeOf(error: OciFormatError): StoreErrorCode {
  if (error.code === "DIGEST_INVALID") return "DIGEST_INVALID";
  const detail = error.detail as { tooLarge?: unknown } | undefined;
  return detail?.tooLarge === true ? "TOO_LARGE" : "SIZE_INVALID";
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
