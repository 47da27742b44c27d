// A registry repository as an Endpoint: manifests and blobs through the OCI client, referrers
// through the referrers API or its fallback tag (referrers.ts).
import { MediaType, stripParameters } from "../oci/index.ts";
import type { RegistryClient } from "./client.ts";
import type { Endpoint } from "./endpoint.ts";
import { entryOf } from "./layout-endpoint.ts";
import { addToFallbackTag, listReferrers } from "./referrers.ts";

export const MANIFEST_ACCEPT = [
  MediaType.ImageManifest,
  MediaType.ImageIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

export function createRegistryEndpoint(client: RegistryClient, repository: string): Endpoint {
  const fetched = new Map<string, Buffer>();
  /** Manifests this endpoint stored whose subject the registry indexed (OCI-Subject answered). */
  const indexed = new Set<string>();
  return {
    name: `${client.registry}/${repository}`,
    async resolve(reference) {
      const found = await client.getManifest(repository, reference, MANIFEST_ACCEPT);
      fetched.set(found.digest, found.bytes);
      const entry = entryOf(found.bytes, found.digest);
      return found.mediaType === "" ? entry : { ...entry, mediaType: stripParameters(found.mediaType) };
    },
    async readManifest(digest) {
      const known = fetched.get(digest);
      if (known !== undefined) return known;
      return (await client.getManifest(repository, digest, MANIFEST_ACCEPT)).bytes;
    },
    hasBlob: (descriptor) => client.hasBlob(repository, descriptor.digest),
    blobFile: async () => undefined,
    fetchBlob: (descriptor, path) => client.getBlob(repository, descriptor.digest, descriptor.size, path),
    async putBlob(descriptor, from) {
      await client.putBlob(repository, { digest: descriptor.digest, size: descriptor.size, ...from });
    },
    async putManifest(entry, bytes, tag) {
      const headers = await client.putManifest(repository, tag ?? entry.digest, bytes, entry.mediaType);
      if (headers.get("oci-subject") !== null) indexed.add(entry.digest);
    },
    async referrers(subject) {
      return (await listReferrers(client, repository, subject)).entries;
    },
    async attachReferrer(subject, referrer) {
      if (indexed.has(referrer.digest)) return "api";
      const { annotations: _a, platform: _p, ...entry } = referrer;
      await addToFallbackTag(client, repository, subject, entry);
      return "tag";
    },
  };
}
