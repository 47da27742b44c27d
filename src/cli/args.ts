// Parsing the gallery commands' arguments: GALLERY/NAME, GALLERY/NAME:VERSION (or @VERSION),
// registry references, integers, enumerated values and KEY=VALUE pairs. Every failure is a
// usage error: nothing is sent.
import { usageError } from "./errors.ts";

export interface ImageRef {
  readonly gallery: string;
  readonly image: string;
}

export interface VersionRef extends ImageRef {
  readonly version: string;
}

const enc = encodeURIComponent;

export function parseImageRef(text: string): ImageRef {
  const parts = text.split("/");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw usageError(`Invalid image "${text}": expected GALLERY/NAME, e.g. prod/web`);
  }
  if (/[:@]/.test(text)) throw usageError(`Invalid image "${text}": expected GALLERY/NAME without a version`);
  return { gallery: parts[0] ?? "", image: parts[1] ?? "" };
}

/** `prod/web 1.4.2`, `prod/web:1.4.2` or `prod/web@1.4.2`. */
export function parseVersionRef(text: string, version?: string): VersionRef {
  const m = /^([^/:@]+\/[^/:@]+)[:@]([^/:@]+)$/.exec(text);
  if (m !== null) {
    if (version !== undefined) throw usageError(`Give the version once: "${text}" already names one`);
    return { ...parseImageRef(m[1] ?? ""), version: m[2] ?? "" };
  }
  if (version === undefined)
    throw usageError(`Missing version: expected GALLERY/NAME VERSION or GALLERY/NAME:VERSION`);
  return { ...parseImageRef(text), version };
}

export function parseInteger(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw usageError(`Invalid ${flag} "${text}": expected a non-negative integer`);
  return Number(text);
}

/** `value` if it is one of `values`, else a usage error naming them. */
export function parseChoice<T extends string>(
  flag: string,
  value: string | undefined,
  values: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) {
    throw usageError(`Invalid ${flag} "${value}": expected one of ${values.join(", ")}`);
  }
  return value as T;
}

/**
 * A reference in this registry as the API takes it (`builds/web:ci-42`): one that starts with
 * the server's HOST:PORT/ (as docker, podman and skopeo spell it) loses that prefix.
 */
export function registryReference(reference: string, server: string): string {
  const url = new URL(server);
  const port = url.port === "" ? (url.protocol === "https:" ? "443" : "80") : url.port;
  for (const host of [url.host, `${url.hostname}:${port}`]) {
    if (reference.startsWith(`${host}/`)) return reference.slice(host.length + 1);
  }
  return reference;
}

export function parsePairs(
  flag: string,
  items: readonly string[] | undefined,
): Record<string, string> | undefined {
  if (items === undefined || items.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usageError(`Invalid ${flag} "${item}": expected KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const galleryPath = (gallery: string): string => `/galleries/${enc(gallery)}`;
export const imagePath = (r: ImageRef): string => `${galleryPath(r.gallery)}/images/${enc(r.image)}`;
export const versionPath = (r: VersionRef): string => `${imagePath(r)}/versions/${enc(r.version)}`;
export const channelPath = (r: ImageRef, channel: string): string =>
  `${imagePath(r)}/channels/${enc(channel)}`;

/** Drops undefined values, so a body holds only the fields given. */
export function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
