// cosign's legacy payload: a "simple signing" document (containers/image's signature format with
// cosign's type) naming the manifest digest and the repository, signed with ECDSA P-256 over
// SHA-256 of the payload bytes (an ASN.1 DER signature, base64 in the manifest). The signing time
// goes in `optional.timestamp` (Unix seconds), the field the format defines for it — the signer's
// claim, as with bundles.
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { SignError } from "./errors.ts";
import type { SigningKey } from "./keys.ts";

export const COSIGN_SIGNATURE_TYPE = "cosign container image signature";

export interface SimpleSigningClaims {
  readonly digest: string;
  readonly reference: string;
  readonly signedAt: Date | undefined;
}

/** The payload for `digest` in `repository` (cosign's docker-reference: the repository name). */
export function simpleSigningPayload(digest: string, repository: string, signedAt: Date): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { "docker-reference": repository },
        image: { "docker-manifest-digest": digest },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional: { creator: "strata", timestamp: Math.floor(signedAt.getTime() / 1000) },
    }),
  );
}

/** The payload's signature, DER, as cosign makes it. */
export const signPayload = (payload: Buffer, key: SigningKey): Buffer =>
  cryptoSign("sha256", payload, key.privateKey);

export const verifyPayload = (payload: Buffer, signature: Buffer, key: KeyObject): boolean =>
  cryptoVerify("sha256", payload, key, signature);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** What a verified payload says; a SIGNATURE_INVALID error when it is not cosign's. */
export function simpleSigningClaims(payload: Buffer): SimpleSigningClaims {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    throw new SignError("SIGNATURE_INVALID", "The simple-signing payload is not JSON", { cause: error });
  }
  const critical = isObject(json) ? json.critical : undefined;
  if (!isObject(critical) || critical.type !== COSIGN_SIGNATURE_TYPE)
    throw new SignError("SIGNATURE_INVALID", `The payload is not a "${COSIGN_SIGNATURE_TYPE}"`);
  const image = isObject(critical.image) ? critical.image : {};
  const digest = image["docker-manifest-digest"];
  if (typeof digest !== "string")
    throw new SignError("SIGNATURE_INVALID", "The payload names no manifest digest");
  const identity = isObject(critical.identity) ? critical.identity : {};
  const reference = typeof identity["docker-reference"] === "string" ? identity["docker-reference"] : "";
  const optional = isObject(json) && isObject(json.optional) ? json.optional : {};
  const timestamp = optional.timestamp;
  return {
    digest,
    reference,
    signedAt:
      typeof timestamp === "number" && Number.isFinite(timestamp) ? new Date(timestamp * 1000) : undefined,
  };
}
