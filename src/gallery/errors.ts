// Errors of the gallery domain. Each code maps to one HTTP status in the API; the CLI prints
// the message. Messages follow the project style: sentence case, values quoted, no period.

export type GalleryErrorCode =
  | "INVALID"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CONFLICT"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "DENIED"
  | "TOO_LARGE";

export const GALLERY_ERROR_STATUS: Readonly<Record<GalleryErrorCode, number>> = {
  INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  DENIED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TOO_LARGE: 413,
};

export const GALLERY_ERROR_DESCRIPTIONS: Readonly<Record<GalleryErrorCode, string>> = {
  INVALID: "The request is malformed: a field is missing, unknown, of the wrong type or out of range",
  UNAUTHORIZED: "Credentials are missing or wrong",
  FORBIDDEN: "The caller's role in the gallery does not allow the operation",
  DENIED: "The lifecycle forbids the operation (for example deleting a version before its end of life)",
  NOT_FOUND: "The gallery, image definition, version, channel or request does not exist",
  METHOD_NOT_ALLOWED: "The path exists but not with this method; the Allow header lists the methods it has",
  CONFLICT: "The operation conflicts with the current state (a version number taken by other content)",
  TOO_LARGE: "The request body or a metadata field is larger than allowed",
};

export class GalleryError extends Error {
  override readonly name = "GalleryError";
  readonly code: GalleryErrorCode;
  readonly detail: Record<string, unknown> | undefined;

  constructor(
    code: GalleryErrorCode,
    message: string,
    options: { detail?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
  }

  get status(): number {
    return GALLERY_ERROR_STATUS[this.code];
  }
}

export const isGalleryError = (value: unknown): value is GalleryError => value instanceof GalleryError;

/** Quotes a value for a message, shortened to keep messages readable. */
export function q(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
