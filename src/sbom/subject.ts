// What an SBOM describes: the image (its manifest digest, a name, its created time), shared by
// both writers. Times come from the image's created time, so the same image always gives the
// same document bytes.
import { createHash } from "node:crypto";
import { purlEncode } from "./purl.ts";

export interface SbomSubject {
  /** How the image is named, e.g. the tag built or `registry/repo`. */
  readonly name: string;
  /** The image manifest digest, `sha256:…`. */
  readonly digest: string;
  /** The image's created time (ISO 8601); the epoch when it has none. */
  readonly created?: string;
  /** The tool named as creator, e.g. `strata-0.1.0`. */
  readonly tool?: string;
}

/** The created time at second precision in UTC (`2024-01-01T00:00:00Z`), as SPDX requires. */
export function documentTime(subject: SbomSubject): string {
  const time = subject.created === undefined ? 0 : Date.parse(subject.created);
  return new Date(Number.isFinite(time) ? time : 0).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export const shortHash = (text: string, length = 16): string =>
  createHash("sha256").update(text).digest("hex").slice(0, length);

export const digestHex = (digest: string): string => digest.replace(/^sha256:/, "");

export const DEFAULT_TOOL = "strata";

/** The image's purl (purl type oci): its last name segment, at its digest. */
export function imagePurl(subject: SbomSubject): string {
  const last = subject.name.replace(/@.*$/, "").split("/").pop() ?? "";
  const name = last.replace(/:[^:]*$/, "").toLowerCase() || "image";
  return `pkg:oci/${purlEncode(name)}@${purlEncode(subject.digest)}`;
}
