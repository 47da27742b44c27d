// Descriptors: parsed and validated from untrusted JSON values.
import { parseDigest, type Digest } from "./digest.ts";
import { OciFormatError, type OciFormatCode } from "./errors.ts";
import { isWellFormedMediaType } from "./media-types.ts";

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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates an annotations-style map of string to string. */
export function parseStringMap(
  value: unknown,
  where: string,
  code: OciFormatCode = "MANIFEST_INVALID",
): Record<string, string> {
  if (!isPlainObject(value)) throw new OciFormatError(code, `Invalid ${where}: expected an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") {
      throw new OciFormatError(code, `Invalid ${where}: value of "${key}" is not a string`);
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

export function parsePlatform(value: unknown, where: string, code: OciFormatCode = "MANIFEST_INVALID"): Platform {
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
  if (value["os.features"] !== undefined) parseStringArray(value["os.features"], `${where}.os.features`, code);
  if (value.features !== undefined) parseStringArray(value.features, `${where}.features`, code);
  return value as unknown as Platform;
}

/** Parses one descriptor; `where` names it in errors (e.g. "layers[2]"). */
export function parseDescriptor(
  value: unknown,
  where: string,
  code: OciFormatCode = "MANIFEST_INVALID",
): Descriptor {
  if (!isPlainObject(value)) throw new OciFormatError(code, `Invalid descriptor ${where}: expected an object`);
  if (!isWellFormedMediaType(value.mediaType)) {
    throw new OciFormatError(code, `Invalid descriptor ${where}: mediaType is missing or malformed`);
  }
  if (typeof value.digest !== "string") {
    throw new OciFormatError(code, `Invalid descriptor ${where}: digest is missing`);
  }
  let digest: Digest;
  try {
    digest = parseDigest(value.digest);
  } catch (cause) {
    throw new OciFormatError(code, `Invalid descriptor ${where}: ${(cause as Error).message}`, { cause });
  }
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new OciFormatError(code, `Invalid descriptor ${where}: size must be a non-negative integer`);
  }
  if (value.urls !== undefined) parseStringArray(value.urls, `descriptor ${where} urls`, code);
  if (value.annotations !== undefined) parseStringMap(value.annotations, `descriptor ${where} annotations`, code);
  if (value.artifactType !== undefined && !isWellFormedMediaType(value.artifactType)) {
    throw new OciFormatError(code, `Invalid descriptor ${where}: artifactType is malformed`);
  }
  if (value.platform !== undefined) parsePlatform(value.platform, `descriptor ${where} platform`, code);
  if (value.data !== undefined) {
    if (typeof value.data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value.data)) {
      throw new OciFormatError(code, `Invalid descriptor ${where}: data must be base64`);
    }
  }
  return value as unknown as Descriptor;
}
