// withClaim: the shape of every commit that makes content referenced. Claim the digests, then
// write or check their bytes, then record them passing the claim (which ends it); the claim is
// released whatever happens. See README.md, "Garbage collection and commits".
import type { Digest } from "../oci/index.ts";
import type { Claim, MetadataStore } from "./types.ts";

export async function withClaim<T>(
  meta: MetadataStore,
  digests: readonly Digest[],
  work: (claim: Claim) => Promise<T>,
): Promise<T> {
  const claim = await meta.claims.take(digests);
  try {
    return await work(claim);
  } finally {
    // A claim left behind only delays collection of its digests until it expires.
    await meta.claims.release(claim).catch(() => undefined);
  }
}
