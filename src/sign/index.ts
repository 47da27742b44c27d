// Signatures: keys (cosign's and openssl's PEM forms), Sigstore bundle v0.3 signatures stored as
// OCI referrers the way cosign v3 stores them, cosign's legacy `.sig` signatures, and their
// verification against trusted public keys.
export { SignError, type SignErrorCode } from "./errors.ts";
export {
  cosignPrivateKeyPem,
  generateSigningKey,
  keyHintOf,
  keyIdOf,
  publicKeyPem,
  readPrivateKey,
  readPublicKey,
  trustedKeyOf,
  type PassphraseSource,
  type SigningKey,
  type TrustedKey,
} from "./keys.ts";
export {
  checkKeyName,
  createKeyring,
  parseNotAfter,
  signingKeyFromFile,
  trustedKeyFromFile,
  type KeyRecord,
  type Keyring,
} from "./keyring.ts";
export {
  COSIGN_SIGN_PREDICATE,
  createBundle,
  IN_TOTO_PAYLOAD,
  parseBundle,
  REFERENCE_ANNOTATION,
  SIGNED_AT_ANNOTATION,
  type ParsedBundle,
  type SignatureSubject,
} from "./bundle.ts";
export {
  bundleReferrer,
  legacySignatureTag,
  type SignatureArtifact,
  type SubjectDescriptor,
} from "./artifacts.ts";
export { checkBundle, checkLegacy, type SignatureCheck, type SignatureStatus } from "./check.ts";
export {
  assertKeyCanSign,
  attachReferrer,
  signatureReferrer,
  signImage,
  type SignOptions,
  type SignResult,
} from "./sign-image.ts";
export { verifyImage, type VerifyOptions, type VerifyResult } from "./verify-image.ts";
