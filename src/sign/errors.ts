// Errors of signing: a key that cannot be read or used, a signature that cannot be made or
// attached, input that is not what it claims to be. Verification problems with one signature are
// not thrown: they are reported in the verification result (verify-image.ts).

export type SignErrorCode =
  /** A key file or PEM that is malformed, of an unsupported kind, or not P-256. */
  | "KEY_INVALID"
  /** The passphrase is missing or does not decrypt the key. */
  | "KEY_PASSPHRASE"
  /** A key past its not-after date asked to sign. */
  | "KEY_EXPIRED"
  /** No key of that name, or a name taken already. */
  | "KEY_NOT_FOUND"
  | "KEY_EXISTS"
  /** A bundle, statement or signature manifest that is malformed or of the wrong type. */
  | "SIGNATURE_INVALID"
  /** A date or name given by the user. */
  | "ARGUMENT_INVALID";

export class SignError extends Error {
  override readonly name = "SignError";
  constructor(
    readonly code: SignErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
