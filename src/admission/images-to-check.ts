// What both webhooks do before they act: only CREATE and UPDATE of an object with images are
// looked at, and each distinct reference is parsed once — one that is not an image reference is
// a denial line, the others go on to the decision (validate) or the resolver (mutate).
import { parseReference, type Reference } from "../oci/index.ts";
import type { AdmissionImage } from "./decide.ts";
import { distinct, imageLabel } from "./messages.ts";
import { podImages } from "./pod-images.ts";
import type { AdmissionRequest } from "./review.ts";

export interface ImagesToCheck {
  /** Every image of the object, with its container and JSON Pointer. */
  readonly images: readonly AdmissionImage[];
  /** The distinct references that parse, in order of first appearance. */
  readonly valid: readonly { readonly reference: string; readonly parsed: Reference }[];
  /** One line per distinct reference that does not parse: `image "…" (…) is denied: why`. */
  readonly denied: readonly string[];
}

/** The request's images to act on, or undefined when it is to be allowed unchanged. */
export function imagesToCheck(request: AdmissionRequest): ImagesToCheck | undefined {
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return undefined;
  const images = podImages(request);
  if (images === undefined || images.length === 0) return undefined;
  const valid: { reference: string; parsed: Reference }[] = [];
  const denied: string[] = [];
  for (const reference of distinct(images)) {
    try {
      valid.push({ reference, parsed: parseReference(reference) });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      denied.push(`${imageLabel(reference, images)} is denied: ${why}`);
    }
  }
  return { images, valid, denied };
}
