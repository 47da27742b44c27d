// Finds every image of an object: the pod spec of a Pod or of a workload's pod template, then
// its containers, init containers and ephemeral containers. Kinds are matched by API group and
// kind, whatever the version (a batch/v1beta1 CronJob has the same shape as batch/v1).
import type { AdmissionImage, ContainerKind } from "./decide.ts";
import { AdmissionError } from "./errors.ts";
import { isDict, type AdmissionRequest } from "./review.ts";

/** Where the pod spec sits, by `group/kind` ("" is the core group). */
const POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  "/Pod": ["spec"],
  "/ReplicationController": ["spec", "template", "spec"],
  "apps/Deployment": ["spec", "template", "spec"],
  "apps/StatefulSet": ["spec", "template", "spec"],
  "apps/DaemonSet": ["spec", "template", "spec"],
  "apps/ReplicaSet": ["spec", "template", "spec"],
  "batch/Job": ["spec", "template", "spec"],
  "batch/CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

const CONTAINER_LISTS: readonly (readonly [string, ContainerKind])[] = [
  ["initContainers", "initContainer"],
  ["containers", "container"],
  ["ephemeralContainers", "ephemeralContainer"],
];

/** Subresources whose requests carry the whole object and may change its images. */
const CHECKED_SUBRESOURCES = new Set(["ephemeralcontainers"]);

/** The kinds the webhook checks, as `group/kind` (core group: `/Pod`). */
export const CHECKED_KINDS: readonly string[] = Object.keys(POD_SPEC_PATH);

function shapeError(kind: string, at: readonly string[], got: string, expected: string): AdmissionError {
  return new AdmissionError(
    "BAD_REVIEW",
    `Invalid AdmissionReview: request.object.${at.join(".")} must be ${expected} in a ${kind}, got ${got}`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The images of the request's object, or undefined when its kind (or subresource) is not one the
 * webhook checks. Throws AdmissionError when the object lacks the shape of its kind. A container
 * without an image is skipped: the API server's own validation refuses it.
 */
export function podImages(request: AdmissionRequest): AdmissionImage[] | undefined {
  const kind = request.kind.kind;
  const path = POD_SPEC_PATH[`${request.kind.group}/${kind}`];
  if (path === undefined) return undefined;
  if (request.subResource !== undefined && !CHECKED_SUBRESOURCES.has(request.subResource)) return undefined;
  let spec: unknown = request.object;
  const walked: string[] = [];
  for (const key of path) {
    if (!isDict(spec)) return fail(walked, spec);
    walked.push(key);
    spec = spec[key];
  }
  if (!isDict(spec)) return fail(walked, spec);

  const images: AdmissionImage[] = [];
  for (const [list, containerKind] of CONTAINER_LISTS) {
    const containers = spec[list];
    if (containers === undefined || containers === null) continue;
    const at = [...walked, list];
    if (!Array.isArray(containers)) throw shapeError(kind, at, describe(containers), "a list");
    containers.forEach((container: unknown, i) => {
      const item = [...at, String(i)];
      if (!isDict(container)) throw shapeError(kind, item, describe(container), "an object");
      const image = container.image;
      const name = container.name;
      if (name !== undefined && typeof name !== "string")
        throw shapeError(kind, [...item, "name"], describe(name), "a string");
      if (image === undefined || image === null) return;
      if (typeof image !== "string") throw shapeError(kind, [...item, "image"], describe(image), "a string");
      images.push({
        reference: image,
        container: name ?? "",
        kind: containerKind,
        path: `/${[...item, "image"].join("/")}`,
      });
    });
  }
  return images;

  function fail(at: readonly string[], got: unknown): never {
    const where = at.length === 0 ? "" : `.${at.join(".")}`;
    throw new AdmissionError(
      "BAD_REVIEW",
      `Invalid AdmissionReview: request.object${where} must be an object in a ${kind} ` +
        `(its pod spec is at ${path?.join(".") ?? ""}), got ${describe(got)}`,
    );
  }
}
