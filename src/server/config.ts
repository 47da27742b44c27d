// Loads the configuration: one YAML file (strata.yaml), then STRATA_… environment variables,
// then explicit overrides (CLI flags), each validated on its own so an error names where the
// bad value came from; then defaults and the checks that span keys (auth rules and users).
// Mappings merge key by key; a list, a scalar or an `auth.users` entry replaces what it overrides.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GalleryEventType } from "../gallery/index.ts";
import type { PolicySpec } from "../policy/index.ts";
import { checkAuthConfig, type AuthConfig } from "../registry/index.ts";
import { ConfigError } from "./config-error.ts";
import { checkAdmissionConfig, type AdmissionConfig } from "./config-admission.ts";
import { checkTlsConfig, type TlsConfig } from "./config-tls.ts";
import { checkPolicyKeys } from "./config-policy.ts";
import { envLabel, readEnvLayer } from "./config-env.ts";
import type { In, ObjectNode, Out } from "./config-nodes.ts";
import { CONFIG_SCHEMA, DEFAULT_DATA, type LogLevel } from "./config-schema.ts";
import { fillDefaults, formatPath, validateLayer, type KeyPath, type Problem } from "./config-validate.ts";

export type { AdmissionConfig, LogLevel, TlsConfig };

export interface Config {
  /** Listen address, `HOST:PORT` or `[IPv6]:PORT`. */
  readonly addr: string;
  /** Data directory (blobs, uploads, token key, default SQLite database). */
  readonly data: string;
  /** `sqlite:PATH` or `postgres://…`. */
  readonly database: string;
  readonly log: { readonly level: LogLevel };
  /** ttl: milliseconds an untouched upload session lives. */
  readonly uploads: { readonly ttl: number };
  /** manifestMaxBytes: largest manifest accepted, in bytes. */
  readonly limits: { readonly manifestMaxBytes: number };
  readonly auth: AuthConfig;
  readonly gallery: GalleryConfig;
  /** Image policies, as configured (plain JSON); compiled with compilePolicies at start. */
  readonly policies: readonly PolicySpec[];
  readonly policy: PolicyConfig;
  /** This site's name, region and storage cost, for usage and cost reports. */
  readonly site: SiteSelfConfig;
  /** Replication targets by name; see docs/replication.md. */
  readonly sites: Readonly<Record<string, SiteConfig>>;
  readonly replication: ReplicationConfig;
  readonly usage: UsageConfig;
  /** grace: milliseconds in-flight requests get to finish on shutdown. */
  readonly shutdown: { readonly grace: number };
  readonly admission: AdmissionConfig;
  readonly tls: TlsConfig;
}

export interface GalleryConfig {
  readonly webhooks: Readonly<
    Record<
      string,
      {
        readonly url: string;
        readonly secret: string;
        readonly events: readonly GalleryEventType[];
        readonly galleries: readonly string[];
      }
    >
  >;
  /** backoff: ms before the first retry (doubling after); timeout: ms per attempt. */
  readonly delivery: { readonly backoff: number; readonly timeout: number };
  /** ms between applying scheduled revocations and purging expired deletions. */
  readonly sweep: number;
  /** Per gallery: the private key file that signs what it receives, and public key files it trusts. */
  readonly signing: Readonly<
    Record<string, { readonly key?: string; readonly password?: string; readonly trust: readonly string[] }>
  >;
}

export interface SiteSelfConfig {
  readonly name: string;
  readonly region?: string;
  readonly cost: { readonly storagePerGiBMonth: number };
}

export interface SiteConfig {
  readonly url: string;
  /** `strata`: another Strata, whose gallery gets the version and its lifecycle; `registry`: any OCI registry. */
  readonly kind: "strata" | "registry";
  readonly region?: string;
  readonly username?: string;
  readonly password?: string;
  /** At a registry site, versions land at `<prefix>/<gallery>/<image>`. */
  readonly repositoryPrefix?: string;
  /** Storage at the site per GiB-month; egress per GiB sent there from this site. */
  readonly cost: { readonly storagePerGiBMonth: number; readonly egressPerGiB: number };
}

export interface ReplicationConfig {
  /** ms between reconciler passes (a change wakes it sooner). */
  readonly interval: number;
  /** ms before the first retry of a failed copy, doubling up to maxBackoff. */
  readonly backoff: number;
  readonly maxBackoff: number;
  /** Blobs sent to one site at once. */
  readonly concurrency: number;
}

export interface UsageConfig {
  /** Count pulls per version. */
  readonly enabled: boolean;
  /** ms between batched writes of counted pulls. */
  readonly flush: number;
}

export interface PolicyConfig {
  /** ms the facts of an image may take; past it, `enforce` policies refuse. */
  readonly timeout: number;
  /** Public key PEM files by name, which signedBy rules name. */
  readonly keys: Readonly<Record<string, string>>;
}

/** What a file, the environment or overrides may give: every key optional, values unvalidated. */
export type ConfigInput = In<typeof CONFIG_SCHEMA>;

export interface LoadConfigOptions {
  /** YAML file; default `strata.yaml` in `cwd` when it exists; null for none. */
  readonly file?: string | null;
  /** Environment (STRATA_… variables); none when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Highest-precedence values, e.g. from command-line flags; a duration may be a number of ms. */
  readonly overrides?: ConfigInput;
  /** Where the default `strata.yaml` is looked for; default process.cwd(). */
  readonly cwd?: string;
}

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when the Config interface and the schema disagree. */
const _configMatchesSchema: Equal<Config, Out<typeof CONFIG_SCHEMA>> = true;

type Dict = Record<string, unknown>;
type Source =
  | {
      readonly kind: "file";
      readonly file: string;
      /** The line of the file where the value at a key path (or its nearest ancestor) is. */
      lineOf?: (path: KeyPath) => number | undefined;
    }
  | { readonly kind: "env" }
  | { readonly kind: "overrides" };

const sourceName = (source: Source | undefined): string =>
  source === undefined
    ? ""
    : source.kind === "file"
      ? JSON.stringify(source.file)
      : `in ${source.kind === "env" ? "environment" : "overrides"}`;

function describeProblems(source: Source | undefined, problems: readonly Problem[]): string[] {
  return problems.map((p) => {
    const where = source?.kind === "env" ? envLabel(CONFIG_SCHEMA, p.path) : formatPath(p.path);
    const line = source?.kind === "file" ? source.lineOf?.(p.path) : undefined;
    const text = where === "" ? p.message : `${where}: ${p.message}`;
    return line === undefined ? text : `line ${line}: ${text}`;
  });
}

function fail(source: Source | undefined, problems: readonly string[], cause?: unknown): never {
  throw new ConfigError(sourceName(source), problems, cause === undefined ? undefined : { cause });
}

async function readYaml(
  file: string,
  source: Source,
  required: boolean,
): Promise<{ value: unknown; lineOf: (path: KeyPath) => number | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    throw new Error(
      `Cannot read configuration "${file}": ${code === "ENOENT" ? "file not found" : String(code)}`,
      {
        cause: error,
      },
    );
  }
  // Loaded here: a server without a configuration file does not load the YAML parser. The
  // package is CommonJS; its exports are read from `default`, which both Node and the bundle in
  // dist/ give a dynamic import of it (the bundle gives nothing else).
  const { LineCounter, parseDocument } = (await import("yaml")).default;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const error = doc.errors[0];
  if (error !== undefined) {
    const pos = lineCounter.linePos(error.pos[0]);
    const at = `line ${pos.line}, column ${pos.col}: `;
    fail(source, [`${at}invalid YAML: ${error.message.split("\n")[0] ?? ""}`], error);
  }
  // A key path's line: the node at the path, else at its nearest ancestor (a missing key).
  const lineOf = (path: KeyPath): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: readonly number[] } | undefined)?.range;
      if (range?.[0] !== undefined) return lineCounter.linePos(range[0]).line;
    }
    return undefined;
  };
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, lineOf };
  } catch (cause) {
    return fail(source, [`invalid YAML: ${cause instanceof Error ? cause.message : String(cause)}`], cause);
  }
}

/** Merges a validated layer into `base`, recording which source set each replaced value. */
function merge(
  node: ObjectNode,
  base: Dict,
  layer: Dict,
  path: KeyPath,
  sources: Map<string, Source>,
  source: Source,
): void {
  for (const [key, value] of Object.entries(layer)) {
    const field = node.fields[key];
    const at = [...path, key];
    if (field?.kind === "object") {
      const inner = (base[key] ??= {}) as Dict;
      merge(field, inner, value as Dict, at, sources, source);
    } else if (field?.kind === "record") {
      const inner = (base[key] ??= {}) as Dict;
      for (const [entry, entryValue] of Object.entries(value as Dict)) {
        inner[entry] = entryValue;
        sources.set(formatPath([...at, entry]), source);
      }
    } else {
      base[key] = value;
      sources.set(formatPath(at), source);
    }
  }
}

/** The source that set `path` or its nearest ancestor. */
function sourceOf(sources: Map<string, Source>, path: KeyPath): Source | undefined {
  for (let n = path.length; n > 0; n--) {
    const found = sources.get(formatPath(path.slice(0, n)));
    if (found !== undefined) return found;
  }
  return undefined;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const layers: { source: Source; value: Dict }[] = [];

  const defaultFile = options.file === undefined;
  const file = options.file === undefined ? join(options.cwd ?? process.cwd(), "strata.yaml") : options.file;
  if (file !== null) {
    const shown = defaultFile ? "strata.yaml" : file;
    const source: Source = { kind: "file", file: shown };
    const raw = await readYaml(file, source, !defaultFile);
    if (raw !== undefined) {
      source.lineOf = raw.lineOf;
      const { value, problems } = validateLayer(CONFIG_SCHEMA, raw.value, false);
      if (problems.length > 0) fail(source, describeProblems(source, problems));
      layers.push({ source, value });
    }
  }

  const env = await readEnvLayer(CONFIG_SCHEMA, options.env ?? {});
  if (env.problems.length > 0) fail({ kind: "env" }, env.problems);
  const envLayer = validateLayer(CONFIG_SCHEMA, env.layer, false);
  if (envLayer.problems.length > 0)
    fail({ kind: "env" }, describeProblems({ kind: "env" }, envLayer.problems));
  layers.push({ source: { kind: "env" }, value: envLayer.value });

  if (options.overrides !== undefined) {
    const source: Source = { kind: "overrides" };
    const { value, problems } = validateLayer(CONFIG_SCHEMA, options.overrides, true);
    if (problems.length > 0) fail(source, describeProblems(source, problems));
    layers.push({ source, value });
  }

  const merged: Dict = {};
  const sources = new Map<string, Source>();
  for (const layer of layers) merge(CONFIG_SCHEMA, merged, layer.value, [], sources, layer.source);
  if (merged.database === undefined) {
    const data = typeof merged.data === "string" ? merged.data : DEFAULT_DATA;
    merged.database = `sqlite:${join(data, "strata.db")}`;
  }
  const filled = fillDefaults(CONFIG_SCHEMA, merged);
  if (filled.problems.length > 0) fail(undefined, describeProblems(undefined, filled.problems));
  const config = filled.value as unknown as Config;

  const authProblems = checkAuthConfig(config.auth).map((p) => ({ ...p, path: ["auth", ...p.path] }));
  if (authProblems.length > 0) {
    const first = sourceOf(sources, authProblems[0]?.path ?? []);
    const same = authProblems.filter((p) => sourceOf(sources, p.path) === first);
    fail(first, describeProblems(first, same));
  }
  const keyProblems = checkPolicyKeys(config).map((p) => ({ ...p, path: ["policies", ...p.path] }));
  if (keyProblems.length > 0) {
    const first = sourceOf(sources, keyProblems[0]?.path ?? []);
    fail(first, describeProblems(first, keyProblems));
  }
  const tlsProblems = [...checkTlsConfig(config), ...checkAdmissionConfig(config.admission)];
  if (tlsProblems.length > 0) {
    const first = sourceOf(sources, tlsProblems[0]?.path ?? []);
    const same = tlsProblems.filter((p) => sourceOf(sources, p.path) === first);
    fail(first, describeProblems(first, same));
  }
  return config;
}
