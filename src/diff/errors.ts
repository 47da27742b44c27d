// Errors of the diff domain. `code` says what kind of problem it is; the message names the image
// or the input and what was wrong with it.
export type DiffErrorCode =
  | "NOT_AN_IMAGE" // a manifest that is neither an image nor a disk made from one
  | "BAD_LAYER" // a layer that cannot be read (corrupt, truncated, hostile paths)
  | "BAD_SBOM" // an SBOM that is not SPDX 2.3 or CycloneDX JSON, or too large
  | "BAD_VERSION" // a version string a package manager would refuse
  | "USAGE"; // how it was asked

export class DiffError extends Error {
  override readonly name = "DiffError";
  constructor(
    readonly code: DiffErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
