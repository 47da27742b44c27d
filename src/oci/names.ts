// Repository names and tags, validated with the distribution spec's grammar.
import { OciFormatError } from "./errors.ts";

const COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Longest repository name accepted (clients commonly cap host + name at 255). */
export const MAX_NAME_LENGTH = 255;

declare const nameBrand: unique symbol;
export type RepositoryName = string & { readonly [nameBrand]: true };

export function parseRepositoryName(value: string): RepositoryName {
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
      `Invalid repository name "${value.length > 80 ? value.slice(0, 77) + "..." : value}": ` +
        "use lowercase letters, digits and separators (. _ __ -), components split by /",
    );
  }
  return value as RepositoryName;
}

export function isRepositoryName(value: string): value is RepositoryName {
  return value.length > 0 && value.length <= MAX_NAME_LENGTH && NAME_RE.test(value);
}

export function isTag(value: string): boolean {
  return TAG_RE.test(value);
}

export function parseTag(value: string): string {
  if (!TAG_RE.test(value)) {
    throw new OciFormatError(
      "TAG_INVALID",
      `Invalid tag "${value.length > 80 ? value.slice(0, 77) + "..." : value}": ` +
        "up to 128 characters of letters, digits, _ . -, not starting with . or -",
    );
  }
  return value;
}
