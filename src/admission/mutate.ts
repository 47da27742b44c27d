// The mutating webhook: every image given by tag (or by name alone) is rewritten to
// `name@sha256:…`, the digest the injected resolver gives, as an RFC 6902 JSON Patch, so the
// image that was checked is the image that runs. Images already by digest are left as they are.
// An image that cannot be resolved, or resolutions that outlast the timeout, refuse the request
// (fail closed).
import { parseDigest, parseReference } from "../oci/index.ts";
import type { ResolveDigest } from "./decide.ts";
import { formatMs, within } from "./deadline.ts";
import { imagesToCheck } from "./images-to-check.ts";
import { denialMessage, imageLabel } from "./messages.ts";
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from "./review.ts";

export interface PatchOperation {
  readonly op: "replace";
  readonly path: string;
  readonly value: string;
}

/** `reg/app:1.2` + digest → `reg/app@sha256:…` (the name as written, the tag dropped). */
export function pinnedReference(reference: string, digest: string): string {
  const ref = parseReference(reference);
  const name = ref.tag === undefined ? reference : reference.slice(0, reference.length - ref.tag.length - 1);
  return `${name}@${parseDigest(digest)}`;
}

export async function mutateRequest(
  request: AdmissionRequest,
  resolve: ResolveDigest,
  options: { readonly timeoutMs: number },
): Promise<AdmissionResponse> {
  const checked = imagesToCheck(request);
  if (checked === undefined) return allow(request.uid);
  const { images } = checked;
  const denied = [...checked.denied];
  const toResolve = checked.valid.filter((v) => v.parsed.digest === undefined).map((v) => v.reference);
  if (toResolve.length === 0 && denied.length === 0) return allow(request.uid);

  const result = await within(options.timeoutMs, (signal) =>
    Promise.all(
      toResolve.map(async (reference) => {
        try {
          return { reference, pinned: pinnedReference(reference, await resolve(reference, signal)) };
        } catch (error) {
          return { reference, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    ),
  );
  if (!result.ok) {
    return deny(
      request.uid,
      `Denied (fail closed): resolving ${toResolve.map((r) => JSON.stringify(r)).join(", ")} to digests ` +
        `took longer than ${formatMs(options.timeoutMs)}`,
    );
  }
  const pinned = new Map<string, string>();
  for (const outcome of result.value) {
    if ("pinned" in outcome) pinned.set(outcome.reference, outcome.pinned);
    else
      denied.push(
        `${imageLabel(outcome.reference, images)} is denied: cannot resolve it to a digest: ${outcome.error}`,
      );
  }
  if (denied.length > 0) return deny(request.uid, denialMessage(denied));

  const patch: PatchOperation[] = [];
  for (const image of images) {
    const value = pinned.get(image.reference);
    if (value !== undefined) patch.push({ op: "replace", path: image.path, value });
  }
  return {
    uid: request.uid,
    allowed: true,
    patchType: "JSONPatch",
    patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
  };
}
