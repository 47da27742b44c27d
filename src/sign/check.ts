// Verifying one signature against the trusted keys, without I/O: a bundle (bundle.ts) or a legacy
// simple-signing payload (simple-signing.ts) over a manifest. The answer is a report, never a
// throw: every signature found on an image is reported, valid or with the reason it is not.
import {
  IN_TOTO_PAYLOAD,
  parseBundle,
  statementClaims,
  verifyDsse,
  verifyMessage,
  type ParsedBundle,
} from "./bundle.ts";
import { SignError } from "./errors.ts";
import { keyHintOf, type TrustedKey } from "./keys.ts";
import { simpleSigningClaims, verifyPayload } from "./simple-signing.ts";

export type SignatureStatus =
  | "valid"
  /** Not made by any of the trusted keys. */
  | "untrusted-key"
  /** Claims a trusted key but does not verify with it: the payload or signature was changed. */
  | "bad-signature"
  /** A valid signature over another manifest. */
  | "wrong-digest"
  /** Made after the key's not-after date (or with no time to compare it with). */
  | "key-expired"
  /** Not a well-formed signature of a supported kind. */
  | "malformed";

export interface SignatureCheck {
  readonly format: "bundle" | "legacy";
  /** Where it was found: the referrer's manifest digest, or the `.sig` tag and layer. */
  readonly source: string;
  readonly status: SignatureStatus;
  readonly valid: boolean;
  /** The key that verified it, or the key its hint names. */
  readonly keyId?: string;
  readonly keyName?: string;
  /** The signing time the signer claims (ISO 8601); not attested by a third party. */
  readonly signedAt?: string;
  /** What it says it covers. */
  readonly covers: { readonly digest?: string; readonly reference?: string };
  /** Why it is not valid. */
  readonly problem?: string;
}

/** The subject being verified: its digest and manifest bytes (a message signature is over them). */
export interface CheckedSubject {
  readonly digest: string;
  readonly manifest: Buffer;
}

/** How far in the future a claimed signing time may be (clocks differ). */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

interface Base {
  readonly format: "bundle" | "legacy";
  readonly source: string;
}

const fail = (
  base: Base,
  status: Exclude<SignatureStatus, "valid">,
  problem: string,
  extra: Partial<SignatureCheck> = {},
): SignatureCheck => ({ ...base, covers: {}, ...extra, status, valid: false, problem });

const keyFields = (key: TrustedKey): { keyId: string; keyName?: string } => ({
  keyId: key.keyId,
  ...(key.name === undefined ? {} : { keyName: key.name }),
});

/** The time rules once the signature verified with `key` and covers the subject. */
function judge(
  base: Base,
  key: TrustedKey,
  covers: SignatureCheck["covers"],
  signedAt: Date | undefined,
  now: Date,
): SignatureCheck {
  const found = {
    ...keyFields(key),
    covers,
    ...(signedAt === undefined ? {} : { signedAt: signedAt.toISOString() }),
  };
  if (signedAt !== undefined && signedAt.getTime() > now.getTime() + CLOCK_SKEW_MS)
    return fail(base, "malformed", `its signing time ${signedAt.toISOString()} is in the future`, found);
  if (key.notAfter !== undefined) {
    if (signedAt === undefined)
      return fail(
        base,
        "key-expired",
        `it carries no signing time to compare with the key's not-after ${key.notAfter.toISOString()}`,
        found,
      );
    if (signedAt.getTime() > key.notAfter.getTime())
      return fail(
        base,
        "key-expired",
        `signed at ${signedAt.toISOString()}, after the key's not-after ${key.notAfter.toISOString()}`,
        found,
      );
  }
  return { ...base, ...found, status: "valid", valid: true };
}

/** The hint as a key id (cosign's hint is the key id's bytes in base64), when it is one. */
function hintKeyId(hint: string | undefined): string | undefined {
  if (hint === undefined) return undefined;
  const bytes = Buffer.from(hint, "base64");
  return bytes.length === 32 ? bytes.toString("hex") : undefined;
}

/** The trusted key that made the bundle's signature, checked against the hint first. */
function signer(
  bundle: ParsedBundle,
  subject: CheckedSubject,
  keys: readonly TrustedKey[],
): { key: TrustedKey } | { hinted: TrustedKey | undefined } {
  const verifies = (key: TrustedKey): boolean =>
    bundle.kind === "dsse"
      ? verifyDsse(bundle, key.publicKey)
      : verifyMessage(bundle, subject.manifest, key.publicKey);
  const hinted =
    bundle.hint === undefined ? undefined : keys.find((k) => keyHintOf(k.publicKey) === bundle.hint);
  if (hinted !== undefined) return verifies(hinted) ? { key: hinted } : { hinted };
  const key = keys.find(verifies);
  return key === undefined ? { hinted: undefined } : { key };
}

/** Checks a bundle's bytes found at `source` against `keys` for `subject`. */
export function checkBundle(
  bytes: Buffer,
  source: string,
  subject: CheckedSubject,
  keys: readonly TrustedKey[],
  now: Date,
): SignatureCheck {
  const base: Base = { format: "bundle", source };
  let bundle: ParsedBundle;
  try {
    bundle = parseBundle(bytes);
  } catch (error) {
    if (error instanceof SignError) return fail(base, "malformed", error.message);
    throw error;
  }
  if (bundle.kind === "dsse" && bundle.payloadType !== IN_TOTO_PAYLOAD)
    return fail(base, "malformed", `its payload type "${bundle.payloadType}" is not ${IN_TOTO_PAYLOAD}`);
  const hintId = hintKeyId(bundle.hint);
  if (bundle.kind === "message" && `sha256:${bundle.messageDigest}` !== subject.digest)
    // Signed over other bytes: not this manifest, whoever signed it.
    return fail(base, "wrong-digest", `it signs sha256:${bundle.messageDigest}, not ${subject.digest}`, {
      ...(hintId === undefined ? {} : { keyId: hintId }),
      covers: { digest: `sha256:${bundle.messageDigest}` },
    });
  const found = signer(bundle, subject, keys);
  if (!("key" in found)) {
    if (found.hinted !== undefined)
      return fail(
        base,
        "bad-signature",
        `it names key ${found.hinted.keyId} but does not verify with it: the payload or the signature was changed`,
        keyFields(found.hinted),
      );
    return fail(
      base,
      "untrusted-key",
      hintId === undefined
        ? "none of the given keys verifies it"
        : `signed by key ${hintId}, which is not among the given keys`,
      hintId === undefined ? {} : { keyId: hintId },
    );
  }
  const key = found.key;
  if (bundle.kind === "message") {
    // A message signature carries no time of its own.
    return judge(base, key, { digest: subject.digest }, undefined, now);
  }
  let claims;
  try {
    claims = statementClaims(bundle.payload);
  } catch (error) {
    if (error instanceof SignError) return fail(base, "malformed", error.message, keyFields(key));
    throw error;
  }
  const covers = {
    digest: claims.digests.join(", "),
    ...(claims.reference === undefined ? {} : { reference: claims.reference }),
  };
  if (!claims.digests.includes(subject.digest))
    return fail(base, "wrong-digest", `it signs ${covers.digest}, not ${subject.digest}`, {
      ...keyFields(key),
      covers,
    });
  return judge(base, key, { ...covers, digest: subject.digest }, claims.signedAt, now);
}

/** Checks one legacy signature: the payload's bytes and the base64 signature of the layer. */
export function checkLegacy(
  payload: Buffer,
  signatureBase64: string | undefined,
  source: string,
  subject: CheckedSubject,
  keys: readonly TrustedKey[],
  now: Date,
): SignatureCheck {
  const base: Base = { format: "legacy", source };
  if (signatureBase64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64))
    return fail(base, "malformed", "its layer has no base64 signature annotation");
  const signature = Buffer.from(signatureBase64, "base64");
  const key = keys.find((k) => verifyPayload(payload, signature, k.publicKey));
  if (key === undefined)
    return fail(
      base,
      "untrusted-key",
      "none of the given keys verifies it (another key signed it, or the payload was changed)",
    );
  let claims;
  try {
    claims = simpleSigningClaims(payload);
  } catch (error) {
    if (error instanceof SignError) return fail(base, "malformed", error.message, keyFields(key));
    throw error;
  }
  const covers = {
    digest: claims.digest,
    ...(claims.reference === "" ? {} : { reference: claims.reference }),
  };
  if (claims.digest !== subject.digest)
    return fail(base, "wrong-digest", `it signs ${claims.digest}, not ${subject.digest}`, {
      ...keyFields(key),
      covers,
    });
  return judge(base, key, covers, claims.signedAt, now);
}
