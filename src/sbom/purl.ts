// Package URLs (package-url/purl-spec): pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS. Components
// are percent-encoded as the spec's "characters and encoding" says: ASCII letters, digits and
// `.-_~` stay, every other UTF-8 octet becomes %XX — so `+` is %2B and an epoch's `:` is %3A
// (decoders read both spellings of the colon). Qualifiers are sorted by key, empty ones left out.
// deb and apk names and all namespaces are lowercased, as their type definitions ask.
import type { OsIdentity, PackageType } from "./model.ts";

const KEEP = /[A-Za-z0-9._~-]/;

export function purlEncode(text: string): string {
  let out = "";
  for (const char of text) {
    if (KEEP.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, "utf8"))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export interface PurlParts {
  readonly type: PackageType;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers?: Readonly<Record<string, string | undefined>>;
}

export function packageUrl(parts: PurlParts): string {
  const name = parts.type === "rpm" ? parts.name : parts.name.toLowerCase();
  const namespace =
    parts.namespace === undefined || parts.namespace === ""
      ? ""
      : `${parts.namespace
          .toLowerCase()
          .split("/")
          .map((s) => purlEncode(s))
          .join("/")}/`;
  const version = parts.version === undefined || parts.version === "" ? "" : `@${purlEncode(parts.version)}`;
  const qualifiers = Object.entries(parts.qualifiers ?? {})
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${purlEncode(v)}`)
    .join("&");
  return `pkg:${parts.type}/${namespace}${purlEncode(name)}${version}${qualifiers === "" ? "" : `?${qualifiers}`}`;
}

/** The `distro` qualifier: ID-VERSION_ID (debian-12), else ID-VERSION_CODENAME, else ID. */
export function distroQualifier(os: OsIdentity | undefined): string | undefined {
  if (os === undefined) return undefined;
  const suffix = os.versionId ?? os.versionCodename;
  return suffix === undefined ? os.id : `${os.id}-${suffix}`;
}
