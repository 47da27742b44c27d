// How refused and warned images read in an answer. Kubernetes shows `status.message` after
// `admission webhook "…" denied the request: ` and each warning after `Warning: `; the API
// server may truncate a warning over 256 characters, so each is cut there, and control
// characters (which it refuses in warnings) become spaces.
import type { AdmissionImage } from "./decide.ts";

const WARNING_MAX = 256;
const KIND_WORD = {
  container: "container",
  initContainer: "init container",
  ephemeralContainer: "ephemeral container",
};

/** `image "nginx:1" (container "web", init container "setup")`. */
export function imageLabel(reference: string, images: readonly AdmissionImage[]): string {
  const where = images
    .filter((i) => i.reference === reference)
    .map((i) => `${KIND_WORD[i.kind]} ${JSON.stringify(i.container)}`);
  return `image ${JSON.stringify(reference)}${where.length === 0 ? "" : ` (${[...new Set(where)].join(", ")})`}`;
}

/** One line per refused image, joined by newlines. */
export function denialMessage(lines: readonly string[]): string {
  return lines.join("\n");
}

export function warning(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return clean.length > WARNING_MAX ? `${clean.slice(0, WARNING_MAX - 3)}...` : clean;
}

/** The distinct references of `images`, in order of first appearance. */
export function distinct(images: readonly AdmissionImage[]): string[] {
  return [...new Set(images.map((i) => i.reference))];
}
