// Registry events: what other domains (gallery, replication, metrics) hear about. The registry
// emits them after the change is durable; listeners cannot fail a request.
import { EventEmitter } from "node:events";
import type { Digest } from "../oci/index.ts";

export interface RegistryEventMap {
  "manifest.pushed": [
    { repository: string; digest: Digest; mediaType: string; tag?: string; subject?: Digest; user?: string },
  ];
  "manifest.deleted": [{ repository: string; digest: Digest; user?: string }];
  /** A manifest GET answered (HEAD is not a pull); `reference` as asked, a tag or the digest. */
  "manifest.pulled": [{ repository: string; reference: string; digest: Digest; user?: string }];
  "tag.deleted": [{ repository: string; tag: string; user?: string }];
  "blob.pushed": [{ repository: string; digest: Digest; size: number; user?: string }];
  "blob.mounted": [{ repository: string; from: string; digest: Digest; user?: string }];
  "blob.deleted": [{ repository: string; digest: Digest; user?: string }];
}

export type RegistryEvents = EventEmitter<RegistryEventMap>;

export function createRegistryEvents(): RegistryEvents {
  return new EventEmitter<RegistryEventMap>();
}
