// The one place where errors become HTTP responses: {"errors":[{code,message,detail}]}.
import { OciFormatError } from "../oci/index.ts";
import { StoreError } from "../store/index.ts";
import { ERROR_CATALOGUE, type ErrorCode } from "./error-catalogue.ts";
import { RegistryError } from "./errors.ts";

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { errors: { code: string; message: string; detail?: unknown }[] };
  /** True for errors the server did not expect (logged at error level). */
  readonly internal: boolean;
}

const OCI_CODE: Record<OciFormatError["code"], ErrorCode> = {
  DIGEST_INVALID: "DIGEST_INVALID",
  MANIFEST_INVALID: "MANIFEST_INVALID",
  NAME_INVALID: "NAME_INVALID",
  TAG_INVALID: "MANIFEST_INVALID",
  REFERENCE_INVALID: "MANIFEST_INVALID",
  CONFIG_INVALID: "MANIFEST_INVALID",
  SIZE_INVALID: "SIZE_INVALID",
};

const STORE_CODE: Record<StoreError["code"], { code: ErrorCode; status?: number }> = {
  BLOB_UNKNOWN: { code: "BLOB_UNKNOWN" },
  DIGEST_INVALID: { code: "DIGEST_INVALID" },
  SIZE_INVALID: { code: "SIZE_INVALID" },
  TOO_LARGE: { code: "SIZE_INVALID", status: 413 },
  RANGE_INVALID: { code: "BLOB_UPLOAD_INVALID", status: 416 },
  UPLOAD_UNKNOWN: { code: "BLOB_UPLOAD_UNKNOWN" },
  CONFLICT: { code: "DENIED", status: 409 },
};

export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof RegistryError) {
    return build(error.code, error.status, error.message, error.detail, error.headers);
  }
  if (error instanceof OciFormatError) {
    const code = OCI_CODE[error.code];
    return build(code, ERROR_CATALOGUE[code].status, error.message, error.detail);
  }
  if (error instanceof StoreError) {
    const mapped = STORE_CODE[error.code];
    return build(
      mapped.code,
      mapped.status ?? ERROR_CATALOGUE[mapped.code].status,
      error.message,
      error.detail,
    );
  }
  return {
    status: 500,
    headers: {},
    body: { errors: [{ code: "UNKNOWN", message: "Internal server error" }] },
    internal: true,
  };
}

function build(
  code: ErrorCode,
  status: number,
  message: string,
  detail: unknown,
  headers: Readonly<Record<string, string>> = {},
): ErrorResponse {
  const entry = {
    code,
    message: message || ERROR_CATALOGUE[code].message,
    ...(detail === undefined ? {} : { detail }),
  };
  return { status, headers, body: { errors: [entry] }, internal: false };
}
