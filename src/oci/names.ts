// Repository names and tags, validated with the distribution spec's grammar.
import { OciFormatError } from "./errors.ts";
import { quote } from "./quote.ts";

const COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Longest repository name accepted (clients commonly cap host + name at 255). */
export const MAX_NAME_LENGTH = 255;
/** Longest tag accepted. */
export const MAX_TAG_LENGTH = 128;

declare const nameBrand: unique symbol;
export type RepositoryName = string & { readonly [nameBrand]: true };

export function parseRepositoryName(value: string): RepositoryName {
  if (typeof value !== "string")
    throw new OciFormatError("NAME_INVALID", "Invalid repository name: not a string");
  if (value.length === 0) throw new OciFormatError("NAME_INVALID", "Invalid repository name: empty");
  if (value.length > MAX_NAME_LENGTH) {
    throw new OciFormatError(
      "NAME_INVALID",
      `Invalid repository name: ${value.length} characters is over the limit of ${MAX_NAME_LENGTH}`,
    );
  }
  if (!NAME_RE.test(value)) {
    throw new OciFormatError(
      "NAME_INVALID",
      `Invalid repository name ${quote(value)}: ${nameProblem(value)}`,
    );
  }
  return value as RepositoryName;
}

function nameProblem(value: string): string {
  if (value.split("/").includes("")) return "empty path component";
  if (NAME_RE.test(value.toLowerCase())) return "must be lowercase";
  return "use lowercase letters, digits and separators (. _ __ -) between them, components split by /";
}

export function isRepositoryName(value: string): value is RepositoryName {
  return typeof value === "string" && value.length <= MAX_NAME_LENGTH && NAME_RE.test(value);
}

export function isTag(value: string): boolean {
  return typeof value === "string" && TAG_RE.test(value);
}

export function parseTag(value: string): string {
  if (typeof value !== "string") throw new OciFormatError("TAG_INVALID", "Invalid tag: not a string");
  if (value.length > MAX_TAG_LENGTH) {
    throw new OciFormatError(
      "TAG_INVALID",
      `Invalid tag ${quote(value)}: ${value.length} characters is over the limit of ${MAX_TAG_LENGTH}`,
    );
  }
  if (!TAG_RE.test(value)) {
    throw new OciFormatError(
      "TAG_INVALID",
      `Invalid tag ${quote(value)}: use letters, digits, _ . -, not starting with . or -`,
    );
  }
  return value;
}
