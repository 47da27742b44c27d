// Package URLs (purl-spec): `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`, read back into
// the neutral package model for the package managers the model knows (deb, apk, rpm).
import type { Package, PackageType } from "../sbom/index.ts";

export interface Purl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Readonly<Record<string, string>>;
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Parses a purl; undefined when it is not one. */
export function parsePurl(text: string): Purl | undefined {
  if (!text.startsWith("pkg:")) return undefined;
  let rest = text.slice(4).replace(/^\/+/, "");
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const qualifiers: Record<string, string> = {};
  const question = rest.indexOf("?");
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split("&")) {
      const eq = pair.indexOf("=");
      if (eq > 0) qualifiers[pair.slice(0, eq).toLowerCase()] = decode(pair.slice(eq + 1));
    }
    rest = rest.slice(0, question);
  }
  const at = rest.lastIndexOf("@");
  const version = at >= 0 ? decode(rest.slice(at + 1)) : undefined;
  if (at >= 0) rest = rest.slice(0, at);
  const parts = rest.split("/").filter((p) => p !== "");
  const type = parts.shift()?.toLowerCase();
  const name = parts.pop();
  if (type === undefined || name === undefined || name === "") return undefined;
  return {
    type,
    ...(parts.length === 0 ? {} : { namespace: parts.map(decode).join("/") }),
    name: decode(name),
    ...(version === undefined || version === "" ? {} : { version }),
    qualifiers,
  };
}

const TYPES: Readonly<Record<string, PackageType>> = { deb: "deb", apk: "apk", alpine: "apk", rpm: "rpm" };

/** The package a purl names, when it is a deb, apk or rpm with a version; undefined otherwise. */
export function packageFromPurl(
  text: string,
  extra: { readonly licenses?: readonly string[] } = {},
): Package | undefined {
  const purl = parsePurl(text);
  if (purl === undefined || purl.version === undefined) return undefined;
  const type = TYPES[purl.type];
  if (type === undefined) return undefined;
  const epoch = purl.qualifiers.epoch;
  const version =
    type === "rpm" && epoch !== undefined && epoch !== "" && !purl.version.includes(":")
      ? `${epoch}:${purl.version}`
      : purl.version;
  const arch = purl.qualifiers.arch;
  const upstream = purl.qualifiers.upstream;
  let source: Package["source"];
  if (upstream !== undefined && upstream !== "") {
    const at = upstream.indexOf("@");
    source = at > 0 ? { name: upstream.slice(0, at), version: upstream.slice(at + 1) } : { name: upstream };
  }
  return {
    type,
    name: purl.name,
    version,
    ...(arch === undefined || arch === "" ? {} : { arch }),
    ...(source === undefined ? {} : { source }),
    purl: text,
    licenses: extra.licenses ?? [],
  };
}

/** The OS a purl's `distro` qualifier names (`debian-12`, `alpine-3.20.3`), when it has one. */
export function osFromPurl(text: string): { id: string; versionId?: string } | undefined {
  const distro = parsePurl(text)?.qualifiers.distro;
  if (distro === undefined || distro === "") return undefined;
  const m = /^([a-z0-9._]+?)-(\d[\w.~+-]*)$/i.exec(distro);
  return m === null ? { id: distro } : { id: m[1] ?? distro, versionId: m[2] ?? "" };
}
