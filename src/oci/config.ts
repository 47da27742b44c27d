// Image configs (image-spec config.md, also Docker's image JSON): parse untrusted bytes into a
// typed value. As the spec says, null in an optional field means absent; unknown fields are
// allowed and dropped from the parsed value (the bytes, kept as pushed, still have them).
import { isPlainObject, parseStringMap } from "./descriptor.ts";
import { parseDigest, type Digest } from "./digest.ts";
import { OciFormatError } from "./errors.ts";
import { parseJsonObject } from "./json.ts";
import { quote, showJson } from "./quote.ts";

export interface ImageConfig {
  readonly created?: string;
  readonly author?: string;
  readonly architecture: string;
  readonly os: string;
  readonly "os.version"?: string;
  readonly "os.features"?: readonly string[];
  readonly variant?: string;
  readonly config?: ExecutionConfig;
  readonly rootfs: RootFs;
  readonly history?: readonly HistoryEntry[];
}

/** A set written as an object whose values are empty objects (Go's map[string]struct{}). */
export type StringSet = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

export interface ExecutionConfig {
  readonly User?: string;
  readonly ExposedPorts?: StringSet;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Volumes?: StringSet;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly ArgsEscaped?: boolean;
  readonly Memory?: number;
  readonly MemorySwap?: number;
  readonly CpuShares?: number;
  readonly Healthcheck?: HealthCheck;
  /** Docker: the shell for RUN, CMD and ENTRYPOINT in shell form. */
  readonly Shell?: readonly string[];
  /** Docker: instructions run when the image is used as a base. */
  readonly OnBuild?: readonly string[];
}

/** Docker's healthcheck; durations in nanoseconds. */
export interface HealthCheck {
  readonly Test?: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

export interface RootFs {
  readonly type: "layers";
  /** Digests of the uncompressed layers, base first. */
  readonly diff_ids: readonly Digest[];
}

export interface HistoryEntry {
  readonly created?: string;
  readonly author?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

// RFC 3339 section 5.6 date-time, with the upper-case T and Z that Go's parser requires.
const DATE_TIME_RE =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

type Fields = Record<string, unknown>;

function invalid(message: string, cause?: unknown): OciFormatError {
  return new OciFormatError(
    "CONFIG_INVALID",
    `Invalid image config: ${message}`,
    cause === undefined ? {} : { cause },
  );
}

/** Parses the bytes of an image config blob; throws OciFormatError(CONFIG_INVALID). */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  const json = parseJsonObject(bytes, "image config", "CONFIG_INVALID").value;
  const out: Fields = {};
  for (const key of ["architecture", "os"]) {
    if (typeof json[key] !== "string") throw invalid(`${key} must be a string, got ${showJson(json[key])}`);
    out[key] = json[key];
  }
  copy(out, json, "created", "created", dateTimeField);
  copy(out, json, "author", "author", stringField);
  copy(out, json, "os.version", "os.version", stringField);
  copy(out, json, "os.features", "os.features", stringsField);
  copy(out, json, "variant", "variant", stringField);
  copy(out, json, "config", "config", executionField);
  out.rootfs = rootfs(json.rootfs);
  copy(out, json, "history", "history", historyField);
  return out as unknown as ImageConfig;
}

type Check = (value: unknown, where: string) => unknown;

/** Copies an optional field after checking it; null and absent both leave it out. */
function copy(out: Fields, from: Fields, key: string, where: string, check: Check): void {
  const value = from[key];
  if (value !== undefined && value !== null) out[key] = check(value, where);
}

const stringField: Check = (value, where) => {
  if (typeof value !== "string") throw invalid(`${where} must be a string`);
  return value;
};

const booleanField: Check = (value, where) => {
  if (typeof value !== "boolean") throw invalid(`${where} must be true or false`);
  return value;
};

const integerField: Check = (value, where) => {
  if (typeof value !== "number" || !Number.isInteger(value)) throw invalid(`${where} must be an integer`);
  return value;
};

const stringsField: Check = (value, where) => {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw invalid(`${where} must be an array of strings`);
  }
  return value;
};

const dateTimeField: Check = (value, where) => {
  if (typeof value !== "string" || !DATE_TIME_RE.test(value)) {
    throw invalid(
      `${where} must be an RFC 3339 date-time${typeof value === "string" ? `, got ${quote(value)}` : ""}`,
    );
  }
  return value;
};

const setField: Check = (value, where) => {
  if (!isPlainObject(value)) throw invalid(`${where} must be an object`);
  for (const [key, entry] of Object.entries(value)) {
    if (!isPlainObject(entry)) throw invalid(`${where} entry ${quote(key)} must be an empty object`);
  }
  return value;
};

const labelsField: Check = (value, where) =>
  parseStringMap(value, `image config: ${where}`, "CONFIG_INVALID");

const healthCheckField: Check = (value, where) => {
  if (!isPlainObject(value)) throw invalid(`${where} must be an object`);
  const out: Fields = {};
  copy(out, value, "Test", `${where}.Test`, stringsField);
  for (const key of ["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"]) {
    copy(out, value, key, `${where}.${key}`, integerField);
  }
  return out;
};

const EXECUTION_FIELDS: Record<string, Check> = {
  User: stringField,
  ExposedPorts: setField,
  Env: stringsField,
  Entrypoint: stringsField,
  Cmd: stringsField,
  Volumes: setField,
  WorkingDir: stringField,
  Labels: labelsField,
  StopSignal: stringField,
  ArgsEscaped: booleanField,
  Memory: integerField,
  MemorySwap: integerField,
  CpuShares: integerField,
  Healthcheck: healthCheckField,
  Shell: stringsField,
  OnBuild: stringsField,
};

const executionField: Check = (value, where) => {
  if (!isPlainObject(value)) throw invalid(`${where} must be an object`);
  const out: Fields = {};
  for (const [key, check] of Object.entries(EXECUTION_FIELDS))
    copy(out, value, key, `${where}.${key}`, check);
  return out;
};

function rootfs(value: unknown): Fields {
  if (!isPlainObject(value)) throw invalid("rootfs must be an object");
  if (value.type !== "layers") throw invalid(`rootfs.type must be "layers", got ${showJson(value.type)}`);
  // Docker omits an empty diff_ids and Go may write it as null: both mean no layers.
  const ids = value.diff_ids ?? [];
  if (!Array.isArray(ids)) throw invalid("rootfs.diff_ids must be an array of digests");
  const diffIds = ids.map((id: unknown, i) => {
    if (typeof id !== "string") throw invalid(`rootfs.diff_ids[${i}] must be a digest string`);
    try {
      return parseDigest(id);
    } catch (cause) {
      const detail = (cause as Error).message;
      throw invalid(`rootfs.diff_ids[${i}]: ${detail.charAt(0).toLowerCase()}${detail.slice(1)}`, cause);
    }
  });
  return { type: "layers", diff_ids: diffIds };
}

const historyField: Check = (value, where) => {
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value.map((entry: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isPlainObject(entry)) throw invalid(`${at} must be an object`);
    const out: Fields = {};
    copy(out, entry, "created", `${at}.created`, dateTimeField);
    for (const key of ["author", "created_by", "comment"]) copy(out, entry, key, `${at}.${key}`, stringField);
    copy(out, entry, "empty_layer", `${at}.empty_layer`, booleanField);
    return out;
  });
};
