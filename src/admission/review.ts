// AdmissionReview `admission.k8s.io/v1`: reads a request strictly (anything else is an
// AdmissionError, answered 400) and writes the answer. Only the fields the webhook uses are
// read; unknown fields are ignored, as the API server may add some.
import { AdmissionError } from "./errors.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface AdmissionRequest {
  readonly uid: string;
  /** Group, version and kind of the object (the group is "" for the core API). */
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly subResource?: string;
  readonly operation: Operation;
  readonly namespace?: string;
  readonly name: string;
  /** The object as it would be stored; null for DELETE and CONNECT. */
  readonly object: unknown;
  readonly user?: string;
  readonly dryRun: boolean;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
  readonly warnings?: readonly string[];
  readonly patchType?: "JSONPatch";
  /** base64 of the JSON Patch (RFC 6902). */
  readonly patch?: string;
}

type Dict = Record<string, unknown>;

export function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function bad(message: string): AdmissionError {
  return new AdmissionError("BAD_REVIEW", `Invalid AdmissionReview: ${message}`);
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return `a ${typeof value}`;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw bad(`${field} must be a string, got ${describe(value)}`);
  return value;
}

/** Parses a request body; throws AdmissionError for anything that is not a v1 AdmissionReview request. */
export function parseReview(body: Buffer | string): AdmissionRequest {
  const text = typeof body === "string" ? body : body.toString("utf8");
  if (text.trim() === "") throw bad("the request body is empty");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new AdmissionError("BAD_REVIEW", `Invalid AdmissionReview: not JSON: ${why}`, { cause });
  }
  if (!isDict(doc)) throw bad(`expected a JSON object, got ${describe(doc)}`);
  if (doc.kind !== "AdmissionReview") throw bad(`kind must be "AdmissionReview", got ${describe(doc.kind)}`);
  if (doc.apiVersion !== ADMISSION_API_VERSION) {
    throw bad(
      `apiVersion must be "${ADMISSION_API_VERSION}", got ${describe(doc.apiVersion)} ` +
        `(register the webhook with admissionReviewVersions: ["v1"])`,
    );
  }
  const req = doc.request;
  if (!isDict(req)) throw bad(`request must be an object, got ${describe(req)}`);
  if (typeof req.uid !== "string" || req.uid === "")
    throw bad(`request.uid must be a non-empty string, got ${describe(req.uid)}`);
  const kind = req.kind;
  if (!isDict(kind) || typeof kind.kind !== "string" || kind.kind === "")
    throw bad(`request.kind must be an object with a kind, got ${describe(kind)}`);
  const operation = req.operation;
  if (typeof operation !== "string" || !(OPERATIONS as readonly string[]).includes(operation)) {
    throw bad(`request.operation must be one of ${OPERATIONS.join(", ")}, got ${describe(operation)}`);
  }
  const op = operation as Operation;
  const object = req.object ?? null;
  if ((op === "CREATE" || op === "UPDATE") && !isDict(object))
    throw bad(`request.object must be an object for ${op}, got ${describe(req.object)}`);
  const userInfo = req.userInfo;
  if (userInfo !== undefined && userInfo !== null && !isDict(userInfo))
    throw bad(`request.userInfo must be an object, got ${describe(userInfo)}`);
  if (req.dryRun !== undefined && req.dryRun !== null && typeof req.dryRun !== "boolean")
    throw bad(`request.dryRun must be true or false, got ${describe(req.dryRun)}`);
  const namespace = optionalString(req.namespace, "request.namespace");
  const subResource = optionalString(req.subResource, "request.subResource");
  const user = isDict(userInfo) ? optionalString(userInfo.username, "request.userInfo.username") : undefined;
  return {
    uid: req.uid,
    kind: {
      group: optionalString(kind.group, "request.kind.group") ?? "",
      version: optionalString(kind.version, "request.kind.version") ?? "",
      kind: kind.kind,
    },
    ...(subResource === undefined || subResource === "" ? {} : { subResource }),
    operation: op,
    ...(namespace === undefined || namespace === "" ? {} : { namespace }),
    name: optionalString(req.name, "request.name") ?? "",
    object,
    ...(user === undefined ? {} : { user }),
    dryRun: req.dryRun === true,
  };
}

/** The AdmissionReview that answers a request. */
export function reviewAnswer(response: AdmissionResponse): {
  apiVersion: string;
  kind: "AdmissionReview";
  response: AdmissionResponse;
} {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}

/** An answer that lets the request through unchanged. */
export function allow(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return warnings.length === 0 ? { uid, allowed: true } : { uid, allowed: true, warnings };
}

/** An answer that refuses the request; the API server shows `message` to the user. */
export function deny(uid: string, message: string, warnings: readonly string[] = []): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: { code: 403, reason: "Forbidden", message },
    ...(warnings.length === 0 ? {} : { warnings }),
  };
}
