// The signature itself, as cosign v3 makes it with a key (`cosign sign --key`, new bundle
// format): an in-toto Statement v1 naming the manifest digest as its subject, with predicate
// type `https://sigstore.dev/cosign/sign/v1` and an empty predicate, in a DSSE envelope (payload
// type `application/vnd.in-toto+json`) signed with ECDSA P-256 / SHA-256 over DSSE's
// pre-authentication encoding, inside a Sigstore bundle v0.3 whose verification material is the
// public key's hint. Without a transparency log or timestamp authority a bundle carries no
// trusted time, so Strata records the signing time — the signer's claim — in the subject's
// annotations, where cosign records `-a key=value` annotations, beside the reference signed.
import { createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { MediaType, parseDigest } from "../oci/index.ts";
import { SignError } from "./errors.ts";
import { keyHintOf, type SigningKey } from "./keys.ts";

export const IN_TOTO_PAYLOAD = "application/vnd.in-toto+json";
export const IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1";
export const COSIGN_SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1";
/** Subject annotations Strata adds: when it was signed (the signer's claim) and as what. */
export const SIGNED_AT_ANNOTATION = "dev.strata.signature.signed-at";
export const REFERENCE_ANNOTATION = "dev.strata.signature.reference";
/** Largest bundle read (a key-signed bundle is about 1 KiB; with a long log proof a few KiB). */
export const MAX_BUNDLE_SIZE = 1024 * 1024;

/** What a signature is over: a manifest digest, and optionally how it was named. */
export interface SignatureSubject {
  readonly digest: string;
  readonly reference?: string;
}

/** DSSE v1 pre-authentication encoding. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

/** The statement cosign signs for an image, with Strata's time and reference annotations. */
export function signatureStatement(subject: SignatureSubject, signedAt: Date): Buffer {
  const [algorithm = "", hex = ""] = parseDigest(subject.digest).split(":");
  const annotations: Record<string, string> = {
    ...(subject.reference === undefined ? {} : { [REFERENCE_ANNOTATION]: subject.reference }),
    [SIGNED_AT_ANNOTATION]: signedAt.toISOString(),
  };
  return Buffer.from(
    JSON.stringify({
      _type: IN_TOTO_STATEMENT,
      subject: [{ digest: { [algorithm]: hex }, annotations }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
}

/** A Sigstore bundle v0.3 over `subject`'s digest, as JSON bytes. */
export function createBundle(key: SigningKey, subject: SignatureSubject, signedAt: Date): Buffer {
  const payload = signatureStatement(subject, signedAt);
  const signature = cryptoSign("sha256", preAuthEncoding(IN_TOTO_PAYLOAD, payload), key.privateKey);
  return Buffer.from(
    JSON.stringify({
      mediaType: MediaType.SigstoreBundle,
      verificationMaterial: { publicKey: { hint: keyHintOf(key.publicKey) } },
      dsseEnvelope: {
        payload: payload.toString("base64"),
        payloadType: IN_TOTO_PAYLOAD,
        signatures: [{ sig: signature.toString("base64") }],
      },
    }),
  );
}

/** What a bundle holds, checked for shape (not yet for its signature). */
export type ParsedBundle =
  | {
      readonly kind: "dsse";
      readonly hint: string | undefined;
      readonly payloadType: string;
      readonly payload: Buffer;
      readonly signatures: readonly Buffer[];
    }
  | {
      readonly kind: "message";
      readonly hint: string | undefined;
      /** sha256 of the signed message, hex. */
      readonly messageDigest: string;
      readonly signature: Buffer;
    };

/**
 * Bundle versions read: v0.3 (what Strata and cosign v3 write, in either spelling) and v0.2,
 * which @sigstore/sign still writes for message signatures — the same content for a key.
 */
const BUNDLE_TYPES = new Set<string>([
  MediaType.SigstoreBundle,
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
]);
const B64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const invalid = (message: string, cause?: unknown): SignError =>
  new SignError(
    "SIGNATURE_INVALID",
    `Malformed Sigstore bundle: ${message}`,
    cause === undefined ? undefined : { cause },
  );

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function base64(value: unknown, what: string): Buffer {
  if (typeof value !== "string" || !B64.test(value)) throw invalid(`${what} is not base64`);
  return Buffer.from(value, "base64");
}

/** Parses a bundle's JSON; a SIGNATURE_INVALID error names what is wrong. */
export function parseBundle(bytes: Buffer): ParsedBundle {
  if (bytes.length > MAX_BUNDLE_SIZE)
    throw invalid(`${bytes.length} bytes, more than the ${MAX_BUNDLE_SIZE} allowed`);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw invalid("not JSON", error);
  }
  if (!isObject(json)) throw invalid("not a JSON object");
  if (typeof json.mediaType !== "string" || !BUNDLE_TYPES.has(json.mediaType))
    throw invalid(
      `media type ${JSON.stringify(json.mediaType)} is not ${MediaType.SigstoreBundle} (nor v0.2)`,
    );
  const material = json.verificationMaterial;
  if (!isObject(material)) throw invalid("no verificationMaterial");
  let hint: string | undefined;
  if (isObject(material.publicKey)) {
    const h = material.publicKey.hint;
    if (h !== undefined && typeof h !== "string") throw invalid("publicKey.hint is not a string");
    hint = h === "" ? undefined : h;
  } else if (material.certificate !== undefined || material.x509CertificateChain !== undefined) {
    throw invalid("it carries a certificate: only bundles signed with a key are verified here");
  } else throw invalid("verificationMaterial names no public key");
  if (isObject(json.dsseEnvelope)) {
    const env = json.dsseEnvelope;
    if (typeof env.payloadType !== "string") throw invalid("dsseEnvelope.payloadType is not a string");
    const payload = base64(env.payload, "dsseEnvelope.payload");
    if (!Array.isArray(env.signatures) || env.signatures.length === 0)
      throw invalid("dsseEnvelope has no signatures");
    const signatures = env.signatures.map((s: unknown, i) => {
      if (!isObject(s)) throw invalid(`dsseEnvelope.signatures[${i}] is not an object`);
      return base64(s.sig, `dsseEnvelope.signatures[${i}].sig`);
    });
    return { kind: "dsse", hint, payloadType: env.payloadType, payload, signatures };
  }
  if (isObject(json.messageSignature)) {
    const m = json.messageSignature;
    if (!isObject(m.messageDigest)) throw invalid("messageSignature.messageDigest is missing");
    if (m.messageDigest.algorithm !== "SHA2_256")
      throw invalid(`message digest algorithm ${JSON.stringify(m.messageDigest.algorithm)} is not SHA2_256`);
    const digest = base64(m.messageDigest.digest, "messageSignature.messageDigest.digest");
    if (digest.length !== 32) throw invalid("messageSignature.messageDigest.digest is not 32 bytes");
    return {
      kind: "message",
      hint,
      messageDigest: digest.toString("hex"),
      signature: base64(m.signature, "messageSignature.signature"),
    };
  }
  throw invalid("neither a dsseEnvelope nor a messageSignature");
}

/** Whether `key` made one of the DSSE envelope's signatures. */
export function verifyDsse(bundle: ParsedBundle & { kind: "dsse" }, key: KeyObject): boolean {
  const pae = preAuthEncoding(bundle.payloadType, bundle.payload);
  return bundle.signatures.some((sig) => cryptoVerify("sha256", pae, key, sig));
}

/** Whether `key` signed `message` (whose sha256 the bundle names). */
export function verifyMessage(
  bundle: ParsedBundle & { kind: "message" },
  message: Buffer,
  key: KeyObject,
): boolean {
  if (createHash("sha256").update(message).digest("hex") !== bundle.messageDigest) return false;
  return cryptoVerify("sha256", message, key, bundle.signature);
}

/** What an in-toto statement says a signature covers. */
export interface StatementClaims {
  readonly digests: readonly string[];
  readonly reference: string | undefined;
  readonly signedAt: Date | undefined;
}

/** Reads the statement of a verified envelope: its subjects' digests and Strata's annotations. */
export function statementClaims(payload: Buffer): StatementClaims {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    throw new SignError("SIGNATURE_INVALID", "The signed payload is not JSON", { cause: error });
  }
  if (!isObject(json) || json._type !== IN_TOTO_STATEMENT)
    throw new SignError(
      "SIGNATURE_INVALID",
      `The signed payload is not an in-toto statement (${IN_TOTO_STATEMENT})`,
    );
  if (json.predicateType !== COSIGN_SIGN_PREDICATE)
    throw new SignError(
      "SIGNATURE_INVALID",
      `The statement's predicate type ${JSON.stringify(json.predicateType)} is not ${COSIGN_SIGN_PREDICATE}`,
    );
  if (!Array.isArray(json.subject) || json.subject.length === 0)
    throw new SignError("SIGNATURE_INVALID", "The statement names no subject");
  const digests: string[] = [];
  let reference: string | undefined;
  let signedAt: Date | undefined;
  for (const subject of json.subject as unknown[]) {
    if (!isObject(subject) || !isObject(subject.digest))
      throw new SignError("SIGNATURE_INVALID", "A statement subject has no digest");
    for (const [algorithm, hex] of Object.entries(subject.digest))
      if (typeof hex === "string") digests.push(`${algorithm}:${hex}`);
    const annotations = isObject(subject.annotations) ? subject.annotations : {};
    const ref = annotations[REFERENCE_ANNOTATION];
    if (typeof ref === "string") reference = ref;
    const at = annotations[SIGNED_AT_ANNOTATION];
    if (typeof at === "string") {
      const time = new Date(at);
      if (Number.isNaN(time.getTime()))
        throw new SignError(
          "SIGNATURE_INVALID",
          `The statement's signing time ${JSON.stringify(at)} is not a date`,
        );
      signedAt = time;
    }
  }
  return { digests, reference, signedAt };
}
