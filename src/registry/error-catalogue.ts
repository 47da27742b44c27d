// The registry's error catalogue: every code a client can receive, with its HTTP status and the
// spec's description. docs/errors.md is generated from this table and a test keeps them in step.

export interface ErrorEntry {
  readonly status: number;
  readonly message: string;
  readonly description: string;
}

export const ERROR_CATALOGUE = {
  BLOB_UNKNOWN: {
    status: 404,
    message: "blob unknown to registry",
    description: "The blob is not in the repository (or the digest names nothing stored).",
  },
  BLOB_UPLOAD_INVALID: {
    status: 400,
    message: "blob upload invalid",
    description:
      "The upload request is malformed: a bad Content-Range, a body where none fits, or a broken stream.",
  },
  BLOB_UPLOAD_UNKNOWN: {
    status: 404,
    message: "blob upload unknown to registry",
    description:
      "The upload session does not exist, expired, was cancelled or belongs to another repository.",
  },
  DIGEST_INVALID: {
    status: 400,
    message: "provided digest did not match uploaded content",
    description:
      "The digest is malformed, uses an unsupported algorithm, or does not match the bytes received.",
  },
  MANIFEST_BLOB_UNKNOWN: {
    status: 400,
    message: "manifest references a manifest or blob unknown to registry",
    description: "A manifest names a config, layer or child manifest that is not in the repository.",
  },
  MANIFEST_INVALID: {
    status: 400,
    message: "manifest invalid",
    description:
      "The manifest is not valid JSON of a supported media type, breaks the image spec, or is too large (413).",
  },
  MANIFEST_UNKNOWN: {
    status: 404,
    message: "manifest unknown to registry",
    description: "No manifest has that tag or digest in the repository.",
  },
  NAME_INVALID: {
    status: 400,
    message: "invalid repository name",
    description:
      "The repository name breaks the grammar: lowercase components split by /, at most 255 characters.",
  },
  NAME_UNKNOWN: {
    status: 404,
    message: "repository name not known to registry",
    description: "The repository does not exist.",
  },
  SIZE_INVALID: {
    status: 400,
    message: "provided length did not match content length",
    description: "Content-Length, Content-Range or the expected size does not match the bytes received.",
  },
  UNAUTHORIZED: {
    status: 401,
    message: "authentication required",
    description: "Credentials are missing or wrong; the WWW-Authenticate header says how to authenticate.",
  },
  DENIED: {
    status: 403,
    message: "requested access to the resource is denied",
    description: "The caller is authenticated but may not do this to this repository.",
  },
  UNSUPPORTED: {
    status: 405,
    message: "the operation is unsupported",
    description:
      "The method or endpoint is not supported, or a query parameter has a value the registry cannot use.",
  },
  TOOMANYREQUESTS: {
    status: 429,
    message: "too many requests",
    description: "The client sent too many requests; retry later.",
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
