// Digests: a validated value built only by parseDigest (or computed from bytes). Supports the
// OCI-registered algorithms sha256 and sha512 with lowercase hex of the exact length.
import { createHash } from "node:crypto";
import { OciFormatError } from "./errors.ts";
import { quote } from "./quote.ts";

export type DigestAlgorithm = "sha256" | "sha512";

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const HEX = /^[a-f0-9]+$/;

declare const digestBrand: unique symbol;
/** A digest string `alg:hex` that has passed validation. */
export type Digest = string & { readonly [digestBrand]: true };

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === "sha256" || value === "sha512";
}

/** Parses and validates `alg:hex`; throws OciFormatError(DIGEST_INVALID) otherwise. */
export function parseDigest(value: string): Digest {
  if (typeof value !== "string") {
    throw new OciFormatError("DIGEST_INVALID", "Invalid digest: not a string");
  }
  const colon = value.indexOf(":");
  if (colon <= 0) {
    throw new OciFormatError("DIGEST_INVALID", `Invalid digest ${quote(value)}: expected algorithm:hex`);
  }
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) {
    throw new OciFormatError(
      "DIGEST_INVALID",
      `Invalid digest ${quote(value)}: unsupported algorithm ${quote(algorithm)}, expected sha256 or sha512`,
    );
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !HEX.test(hex)) {
    throw new OciFormatError(
      "DIGEST_INVALID",
      `Invalid digest ${quote(value)}: ${algorithm} needs ${HEX_LENGTH[algorithm]} lowercase hex characters`,
    );
  }
  return value as Digest;
}

/** True when value is a well-formed digest. */
export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(":")) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(":") + 1);
}

/** Digest of bytes held in memory. */
export function digestOf(bytes: Uint8Array | string, algorithm: DigestAlgorithm = "sha256"): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}` as Digest;
}
