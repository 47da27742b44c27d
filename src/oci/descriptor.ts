// Descriptors: parsed and validated from untrusted JSON values (image-spec descriptor.md).
import { digestAlgorithm, digestOf, parseDigest, type Digest } from "./digest.ts";
import { OciFormatError, type OciFormatCode } from "./errors.ts";
import { isWellFormedMediaType } from "./media-types.ts";
import { quote, showJson } from "./quote.ts";

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  readonly platform?: Platform;
  readonly data?: string;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
  readonly variant?: string;
  readonly features?: readonly string[];
}

// RFC 4648 section 4, padded.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates an annotations-style map of string to string. */
export function parseStringMap(
  value: unknown,
  where: string,
  code: OciFormatCode = "MANIFEST_INVALID",
): Record<string, string> {
  if (!isPlainObject(value))
    throw new OciFormatError(code, `Invalid ${where}: expected an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") {
      throw new OciFormatError(code, `Invalid ${where}: value of ${quote(key)} is not a string`);
    }
  }
  return value as Record<string, string>;
}

function parseStringArray(value: unknown, where: string, code: OciFormatCode): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new OciFormatError(code, `Invalid ${where}: expected an array of strings`);
  }
  return value as string[];
}

export function parsePlatform(
  value: unknown,
  where: string,
  code: OciFormatCode = "MANIFEST_INVALID",
): Platform {
  if (!isPlainObject(value)) throw new OciFormatError(code, `Invalid ${where}: expected an object`);
  if (typeof value.architecture !== "string" || typeof value.os !== "string") {
    throw new OciFormatError(code, `Invalid ${where}: architecture and os must be strings`);
  }
  if (value["os.version"] !== undefined && typeof value["os.version"] !== "string") {
    throw new OciFormatError(code, `Invalid ${where}: os.version must be a string`);
  }
  if (value.variant !== undefined && typeof value.variant !== "string") {
    throw new OciFormatError(code, `Invalid ${where}: variant must be a string`);
  }
  if (value["os.features"] !== undefined)
    parseStringArray(value["os.features"], `${where} os.features`, code);
  if (value.features !== undefined) parseStringArray(value.features, `${where} features`, code);
  return value as unknown as Platform;
}

/** Parses one descriptor; `where` names it in errors (e.g. "layers[2]"). */
export function parseDescriptor(
  value: unknown,
  where: string,
  code: OciFormatCode = "MANIFEST_INVALID",
): Descriptor {
  const fail = (detail: string, cause?: unknown): never => {
    throw new OciFormatError(
      code,
      `Invalid descriptor ${where}: ${detail}`,
      cause === undefined ? {} : { cause },
    );
  };
  if (!isPlainObject(value)) return fail("expected an object");
  if (value.mediaType === undefined) return fail("mediaType is missing");
  if (!isWellFormedMediaType(value.mediaType)) {
    return fail(
      `mediaType ${typeof value.mediaType === "string" ? quote(value.mediaType) : "is not a string"}`,
    );
  }
  if (typeof value.digest !== "string") return fail("digest is missing or not a string");
  let digest: Digest;
  try {
    digest = parseDigest(value.digest);
  } catch (cause) {
    return fail(lowerFirst((cause as Error).message), cause);
  }
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    return fail(`size must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${showJson(size)}`);
  }
  if (value.urls !== undefined) {
    const urls = parseStringArray(value.urls, `descriptor ${where} urls`, code);
    for (const url of urls) if (!URL.canParse(url)) fail(`urls entry ${quote(url)} is not an absolute URL`);
  }
  if (value.annotations !== undefined)
    parseStringMap(value.annotations, `descriptor ${where} annotations`, code);
  if (value.artifactType !== undefined && !isWellFormedMediaType(value.artifactType)) {
    fail("artifactType is malformed");
  }
  if (value.platform !== undefined) parsePlatform(value.platform, `descriptor ${where} platform`, code);
  if (value.data !== undefined) {
    if (typeof value.data !== "string" || !BASE64_RE.test(value.data)) fail("data must be padded base64");
    const bytes = Buffer.from(value.data as string, "base64");
    if (bytes.length !== size) fail(`data decodes to ${bytes.length} bytes but size is ${size}`);
    if (digestOf(bytes, digestAlgorithm(digest)) !== digest) fail(`data does not match digest ${digest}`);
  }
  return value as unknown as Descriptor;
}

function lowerFirst(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1);
}
