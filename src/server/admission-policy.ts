// The admission webhooks connected to the policy engine: every image of an object is decided at
// the `admission` point with the namespace of the request. Images of this server's registry (its
// listen address, `localhost` and `127.0.0.1` with its port) are resolved and judged on their
// facts; images of other registries are judged on their reference alone — `galleryOnly` then
// refuses them, which is how "deny non-gallery images in production" reads. Tags resolve only
// for this server's registry; any other is refused (fail closed). No policy configured: every
// image is allowed, and tags of this server still resolve for the mutating webhook.
import type { AdmissionDeps, ImageDecision } from "../admission/index.ts";
import type { GalleryService } from "../gallery/index.ts";
import { parseReference } from "../oci/index.ts";
import type { MetadataStore } from "../store/index.ts";

/** The registry host names that are this server, from its URL (`http://127.0.0.1:5000`). */
export function ownHosts(url: string): string[] {
  if (url === "") return [];
  const { hostname, port, host } = new URL(url);
  const hosts = new Set([host.toLowerCase()]);
  if (["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "[::]"].includes(hostname))
    for (const name of ["localhost", "127.0.0.1"]) hosts.add(port === "" ? name : `${name}:${port}`);
  return [...hosts];
}

export function policyAdmission(
  deps: { readonly gallery: GalleryService; readonly meta: MetadataStore },
  hosts: () => readonly string[],
): AdmissionDeps {
  const { gallery, meta } = deps;
  const enforcer = gallery.policy;
  return {
    async decide(images, context) {
      const results: ImageDecision[] = [];
      for (const reference of new Set(images.map((i) => i.reference))) {
        if (enforcer === undefined) {
          results.push({ reference, outcome: "allow", reasons: [] });
          continue;
        }
        const answer = await enforcer.decideReference(reference, "admission", {
          hosts: hosts(),
          ...(context.user === undefined ? {} : { user: context.user }),
          ...(context.namespace === undefined ? {} : { namespace: context.namespace }),
        });
        results.push({
          reference,
          outcome: answer.outcome,
          reasons: answer.reasons,
          ...(answer.digest === undefined ? {} : { digest: answer.digest }),
        });
      }
      return { results };
    },
    async resolve(reference) {
      const ref = parseReference(reference);
      const registry = ref.registry?.toLowerCase();
      if (registry === undefined || !hosts().includes(registry))
        throw new Error(
          `${registry === undefined ? "it names no registry" : `registry "${registry}" is not this server`}: only this server's tags are resolved`,
        );
      if (ref.digest !== undefined) return ref.digest;
      const tag = ref.tag ?? "latest";
      const digest =
        (await gallery.pullPath.resolveReference(ref.repository, tag)) ??
        (await meta.manifests.resolve(ref.repository, tag))?.digest;
      if (digest === undefined) throw new Error(`${ref.repository}:${tag} does not exist on this server`);
      return digest;
    },
  };
}
