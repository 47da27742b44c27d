// A registry's referrers of a manifest: through the referrers API (`GET /v2/NAME/referrers/
// DIGEST`, distribution-spec 1.1), and for registries without it (CNCF Distribution 2.8) through
// the fallback the spec describes — the tag `sha256-<hex>` holding an index of the referrers,
// read here and updated when a referrer is pushed.
import { MediaType } from "../oci/index.ts";
import type { RegistryClient } from "./client.ts";
import { RemoteError } from "./errors.ts";
import type { Entry } from "./layout.ts";

const NO_API = new Set([400, 404, 405, 501]);

/** The fallback tag of a subject: `sha256:abc…` → `sha256-abc…`. */
export const fallbackTag = (digest: string): string => digest.replace(":", "-");

function entriesOf(bytes: Buffer | string, what: string): Entry[] {
  try {
    const manifests = (JSON.parse(bytes.toString()) as { manifests?: unknown }).manifests;
    if (manifests === undefined) return [];
    if (!Array.isArray(manifests)) throw new Error("manifests is not a list");
    return manifests as Entry[];
  } catch (error) {
    throw new RemoteError(`${what} is not an index: ${(error as Error).message}`, { cause: error });
  }
}

/** The fallback tag's index entries, none when the tag does not exist. */
async function fallbackEntries(
  client: RegistryClient,
  repository: string,
  subject: string,
): Promise<Entry[]> {
  try {
    const found = await client.getManifest(repository, fallbackTag(subject), [MediaType.ImageIndex]);
    return entriesOf(found.bytes, `${client.registry}/${repository}:${fallbackTag(subject)}`);
  } catch (error) {
    if (error instanceof RemoteError && error.status === 404) return [];
    throw error;
  }
}

/**
 * The referrers of `subject` in `repository`: the referrers API's answer, else (a registry
 * that does not know the API) the fallback tag's index.
 */
export async function listReferrers(
  client: RegistryClient,
  repository: string,
  subject: string,
): Promise<{ entries: Entry[]; via: "api" | "tag" }> {
  const what = `referrers of ${subject}`;
  const response = await client.request("GET", `/v2/${repository}/referrers/${subject}`, {
    scope: `repository:${repository}:pull`,
    headers: { accept: MediaType.ImageIndex },
    what,
  });
  if (response.ok)
    return { entries: entriesOf(Buffer.from(await response.arrayBuffer()), `The ${what}`), via: "api" };
  // A registry without the API answers its unknown route: 404 (Distribution 2.8), or 400, 405
  // or 501 from others.
  if (!NO_API.has(response.status)) return client.fail(response, `Cannot list the ${what}`);
  await response.body?.cancel();
  return { entries: await fallbackEntries(client, repository, subject), via: "tag" };
}

/** Adds (or replaces) `referrer` in the fallback tag's index of `subject`. */
export async function addToFallbackTag(
  client: RegistryClient,
  repository: string,
  subject: string,
  referrer: Entry,
): Promise<void> {
  const manifests = (await fallbackEntries(client, repository, subject)).filter(
    (m) => m.digest !== referrer.digest,
  );
  manifests.push(referrer);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests }));
  await client.putManifest(repository, fallbackTag(subject), index, MediaType.ImageIndex);
}
