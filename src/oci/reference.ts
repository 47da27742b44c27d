// Image references `[registry/]repository[:tag][@digest]`, split as docker does: the first path
// component names a registry only if it contains "." or ":", is "localhost", or has uppercase
// letters (a repository never has); one starting with "[" is read as an IPv6 host too, for a
// clearer error. There is no default registry and no "library/" prefix.
import { parseDigest, type Digest } from "./digest.ts";
import { OciFormatError } from "./errors.ts";
import {
  MAX_NAME_LENGTH,
  MAX_TAG_LENGTH,
  parseRepositoryName,
  parseTag,
  type RepositoryName,
} from "./names.ts";
import { quote } from "./quote.ts";

export interface Reference {
  readonly registry?: string;
  readonly repository: RepositoryName;
  readonly tag?: string;
  readonly digest?: Digest;
}

const HOST_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME_RE = new RegExp(`^${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*$`);
const PORT_RE = /^[0-9]{1,5}$/;
/** registry/repository, then ":" tag, then "@" and the longest digest (sha512). */
const MAX_REFERENCE_LENGTH = MAX_NAME_LENGTH + 1 + MAX_TAG_LENGTH + 1 + "sha512:".length + 128;

export function parseReference(value: string): Reference {
  if (typeof value !== "string" || value.length === 0) {
    throw new OciFormatError("REFERENCE_INVALID", "Invalid reference: empty");
  }
  if (value.length > MAX_REFERENCE_LENGTH) {
    throw new OciFormatError(
      "REFERENCE_INVALID",
      `Invalid reference ${quote(value)}: ${value.length} characters is over the limit of ${MAX_REFERENCE_LENGTH}`,
    );
  }
  let rest = value;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const encoded = rest.slice(at + 1);
    digest = within(value, () => parseDigest(encoded));
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    const candidate = rest.slice(colon + 1);
    tag = within(value, () => parseTag(candidate));
    rest = rest.slice(0, colon);
  }
  if (rest.length > MAX_NAME_LENGTH) {
    throw new OciFormatError(
      "NAME_INVALID",
      `Invalid reference ${quote(value)}: name is ${rest.length} characters, over the limit of ${MAX_NAME_LENGTH}`,
    );
  }
  let registry: string | undefined;
  const slash = rest.indexOf("/");
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    const problem = registryProblem(registry);
    if (problem !== undefined) {
      throw new OciFormatError("REFERENCE_INVALID", `Invalid reference ${quote(value)}: ${problem}`);
    }
    rest = rest.slice(slash + 1);
  }
  const path = rest;
  const repository = within(value, () => parseRepositoryName(path));
  return {
    ...(registry !== undefined ? { registry } : {}),
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** The string form; parseReference(formatReference(r)) gives back r. */
export function formatReference(ref: Reference): string {
  const repository = parseRepositoryName(ref.repository);
  let out: string = repository;
  if (ref.registry !== undefined) {
    const problem = registryProblem(ref.registry);
    if (problem !== undefined) throw new OciFormatError("REFERENCE_INVALID", `Invalid reference: ${problem}`);
    out = `${ref.registry}/${repository}`;
  } else {
    const slash = repository.indexOf("/");
    if (slash >= 0 && looksLikeRegistry(repository.slice(0, slash))) {
      throw new OciFormatError(
        "REFERENCE_INVALID",
        `Invalid reference: repository ${quote(repository)} needs a registry, or its first component reads as one`,
      );
    }
  }
  if (ref.tag !== undefined) out += `:${parseTag(ref.tag)}`;
  if (ref.digest !== undefined) out += `@${parseDigest(ref.digest)}`;
  return out;
}

function looksLikeRegistry(component: string): boolean {
  return (
    component.includes(".") ||
    component.includes(":") ||
    component === "localhost" ||
    component.startsWith("[") ||
    component.toLowerCase() !== component
  );
}

/** Why `host[:port]` is not a registry host (DNS name, IPv4, or [IPv6]), or undefined if it is. */
function registryProblem(registry: string): string | undefined {
  let host = registry;
  let port: string | undefined;
  if (registry.startsWith("[")) {
    const close = registry.indexOf("]");
    if (close < 0) return `registry ${quote(registry)} has an unclosed [`;
    const ip = registry.slice(1, close);
    if (!/^[0-9a-fA-F:.]+$/.test(ip) || !URL.canParse(`http://[${ip}]/`)) {
      return `registry ${quote(registry)}: ${quote(ip)} is not an IPv6 address`;
    }
    const after = registry.slice(close + 1);
    if (after !== "" && !after.startsWith(":"))
      return `registry ${quote(registry)}: expected ":port" after "]"`;
    if (after !== "") port = after.slice(1);
  } else {
    const colon = registry.indexOf(":");
    if (colon >= 0) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
    if (!DOMAIN_NAME_RE.test(host)) {
      return `registry host ${quote(host)} is not a DNS name or IP address (IPv6 needs [brackets])`;
    }
  }
  if (port !== undefined && (!PORT_RE.test(port) || Number(port) < 1 || Number(port) > 65535)) {
    return `registry ${quote(registry)}: port ${quote(port)} is not a number from 1 to 65535`;
  }
  return undefined;
}

/** Runs a component parser, prefixing its error with the whole reference and keeping its code. */
function within<T>(reference: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (!(cause instanceof OciFormatError)) throw cause;
    const detail = cause.message.charAt(0).toLowerCase() + cause.message.slice(1);
    throw new OciFormatError(cause.code, `Invalid reference ${quote(reference)}: ${detail}`, { cause });
  }
}
