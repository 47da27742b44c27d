// The schema of strata.yaml: every key, its type, bounds and default. Environment variables
// (config-env.ts) and the Config type (config.ts) derive from it; docs/configuration.md
// describes it, and a test checks that the document names every key and variable.
import { EVENT_TYPES } from "../gallery/index.ts";
import { parsePolicies, type PolicySpec } from "../policy/index.ts";
import { ACTIONS } from "../registry/index.ts";
import { parseAddr } from "./addr.ts";
import { bool, duration, list, num, obj, oneOf, record, size, str, value } from "./config-nodes.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_DATA = "./.strata";
const DAY = 86_400_000;

function checkAddr(value: string): string | undefined {
  try {
    parseAddr(value);
    return undefined;
  } catch {
    return "expected HOST:PORT or [IPv6]:PORT";
  }
}

function checkDatabase(value: string): string | undefined {
  if (/^sqlite:./.test(value)) return undefined;
  if (/^postgres(?:ql)?:\/\/./.test(value) && URL.canParse(value)) return undefined;
  return 'expected "sqlite:PATH" or a "postgres://" URL';
}

function checkHttpUrl(value: string): string | undefined {
  return /^https?:\/\/./.test(value) && URL.canParse(value)
    ? undefined
    : "expected an http:// or https:// URL";
}

const nonEmpty = (value: string): string | undefined =>
  value.trim() === "" ? "expected a non-empty string" : undefined;

/** The policies, read and compiled by policy/ (CEL type-checked) so a bad one stops the start. */
function readPolicies(input: unknown): {
  value: readonly PolicySpec[];
  problems: readonly { path: readonly (string | number)[]; message: string }[];
} {
  const { policies, problems } = parsePolicies(input);
  return { value: policies.map((p) => p.spec), problems };
}

export const CONFIG_SCHEMA = obj({
  addr: str({ default: "127.0.0.1:5000", check: checkAddr }),
  data: str({ default: DEFAULT_DATA, check: nonEmpty }),
  /** No static default: `sqlite:<data>/strata.db`, filled in by the loader. */
  database: str({ secret: true, check: checkDatabase }),
  log: obj({
    level: oneOf(LOG_LEVELS, { default: "info" }),
  }),
  uploads: obj({
    ttl: duration({ default: "24h", min: 1000 }),
  }),
  limits: obj({
    manifestMaxBytes: size({ default: "4MiB", min: 1 }),
  }),
  auth: obj({
    anonymous: oneOf(["none", "read"], { default: "none" }),
    users: record(obj({ password: str({ secret: true }) })),
    access: list(
      obj({
        repositories: list(str()),
        users: list(str()),
        actions: list(oneOf(ACTIONS, {})),
      }),
    ),
    token: obj({
      ttl: duration({ default: "5m", min: 1000, max: DAY }),
      issuer: str({ default: "strata", check: nonEmpty }),
      service: str({ default: "strata", check: nonEmpty }),
      realm: str({ optional: true }),
    }),
  }),
  gallery: obj({
    /** Webhooks by name: each gets the events it names (all when empty) of the galleries it names (all when empty). */
    webhooks: record(
      obj({
        url: str({ check: checkHttpUrl }),
        secret: str({ secret: true, check: nonEmpty }),
        events: list(oneOf(EVENT_TYPES, {})),
        galleries: list(str()),
      }),
    ),
    delivery: obj({
      backoff: duration({ default: "2s", min: 10, max: DAY }),
      timeout: duration({ default: "10s", min: 100, max: 600_000 }),
    }),
    sweep: duration({ default: "1m", min: 100, max: DAY }),
    /**
     * Keys by gallery name: `key` (a private key PEM file: cosign's, PKCS#8 or SEC1, encrypted
     * with `password` or not) signs every version published or copied into the gallery; `trust`
     * (public key PEM files) adds keys whose signatures count for it, such as a rotated-out key.
     */
    signing: record(
      obj({
        key: str({ optional: true, check: nonEmpty }),
        password: str({ secret: true, optional: true }),
        trust: list(str({ check: nonEmpty })),
      }),
    ),
  }),
  /** Image policies decided at pull, run, admission and `strata policy check`; see docs/policy.md. */
  policies: value<readonly PolicySpec[]>([], readPolicies),
  policy: obj({
    /** How long the facts of an image may take to gather; past it, `enforce` policies refuse. */
    timeout: duration({ default: "5s", min: 10, max: 600_000 }),
    /** Public key PEM files by name, for the signedBy rule; read at start. */
    keys: record(str({ check: nonEmpty })),
  }),
  /** This site: its name and region in reports, and what storage here costs per GiB-month. */
  site: obj({
    name: str({ default: "local", check: nonEmpty }),
    region: str({ optional: true, check: nonEmpty }),
    cost: obj({
      storagePerGiBMonth: num({ default: 0, min: 0 }),
    }),
  }),
  /**
   * Sites versions are replicated to, by name: another Strata (`kind: strata`, whose gallery gets
   * the version and its lifecycle) or any OCI registry (`kind: registry`). `cost` is what storage
   * at that site costs per GiB-month and what sending a GiB there from this site costs.
   */
  sites: record(
    obj({
      url: str({ check: checkHttpUrl }),
      kind: oneOf(["strata", "registry"], { default: "registry" }),
      region: str({ optional: true, check: nonEmpty }),
      username: str({ optional: true, check: nonEmpty }),
      password: str({ secret: true, optional: true }),
      /** Where versions land at a registry site: `<prefix>/<gallery>/<image>`; none by default. */
      repositoryPrefix: str({ optional: true, check: nonEmpty }),
      cost: obj({
        storagePerGiBMonth: num({ default: 0, min: 0 }),
        egressPerGiB: num({ default: 0, min: 0 }),
      }),
    }),
  ),
  /** The reconciler that makes each target site hold its versions; see docs/replication.md. */
  replication: obj({
    interval: duration({ default: "10s", min: 10, max: DAY }),
    backoff: duration({ default: "5s", min: 10, max: DAY }),
    maxBackoff: duration({ default: "10m", min: 10, max: DAY }),
    /** Blobs sent to one site at once. */
    concurrency: num({ default: 4, min: 1, max: 64, integer: true }),
  }),
  /** Pull counting per version; see docs/usage.md. */
  usage: obj({
    enabled: bool({ default: true }),
    /** How often counted pulls are written, in one batch. */
    flush: duration({ default: "1s", min: 10, max: 600_000 }),
  }),
  shutdown: obj({
    grace: duration({ default: "30s", min: 0, max: DAY }),
  }),
  /**
   * The Kubernetes admission webhooks (see config-admission.ts): a listener of their own, over
   * HTTPS only, started when `addr` is set.
   */
  admission: obj({
    addr: str({ optional: true, check: checkAddr }),
    certificate: str({ optional: true, check: nonEmpty }),
    key: str({ optional: true, check: nonEmpty }),
    clientCA: str({ optional: true, check: nonEmpty }),
    timeout: duration({ default: "5s", min: 100, max: 30_000 }),
    bodyMaxBytes: size({ default: "4MiB", min: 1024 }),
  }),
  /** HTTPS: PEM files read at start and again when they change; see config-tls.ts and tls.ts. */
  tls: obj({
    certificate: str({ optional: true, check: nonEmpty }),
    key: str({ optional: true, check: nonEmpty }),
    clientCA: str({ optional: true, check: nonEmpty }),
    reload: duration({ default: "10s", min: 100, max: DAY }),
    allowPlaintext: bool({ default: false }),
  }),
});
