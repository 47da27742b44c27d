// Errors of the admission domain. An AdmissionError is a request the webhook cannot read as an
// AdmissionReview (not JSON, wrong apiVersion or kind, no uid, an object without the shape of
// its kind, a body over the limit): it answers HTTP 400 with the message, never an
// AdmissionReview, so the API server reports the webhook as failing and its failurePolicy applies.
// Refused images are not errors: they are answered `allowed: false` in the review.

export type AdmissionErrorCode = "BAD_REVIEW" | "TOO_LARGE";

export class AdmissionError extends Error {
  override readonly name = "AdmissionError";
  readonly code: AdmissionErrorCode;

  constructor(code: AdmissionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
