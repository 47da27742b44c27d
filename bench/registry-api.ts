// The OCI Distribution requests the scenarios make: blob uploads (monolithic, chunked, streamed),
// blob and manifest reads, manifest pushes and tag listing. Each checks its status code so a
// benchmark never times an error.
import type { Client, RequestOptions, Response } from "./client.ts";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

async function expect(
  client: Client,
  want: number,
  method: string,
  target: string,
  options?: RequestOptions,
) {
  const res = await client.request(method, target, options);
  if (res.status !== want) {
    const detail = res.body.toString("utf8").slice(0, 300);
    throw new Error(`${method} "${target}" answered ${res.status}, expected ${want}: ${detail}`);
  }
  return res;
}

function location(res: Response, what: string): string {
  const loc = res.headers.location;
  if (loc === undefined) throw new Error(`${what} answered without a Location header`);
  return loc;
}

function withDigest(loc: string, digest: string): string {
  return `${loc}${loc.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}

export async function startUpload(client: Client, repo: string): Promise<string> {
  const res = await expect(client, 202, "POST", `/v2/${repo}/blobs/uploads/`);
  return location(res, "POST blobs/uploads");
}

/** POST, then PUT ?digest= with the whole body. */
export async function pushMonolithic(
  client: Client,
  repo: string,
  digest: string,
  body: Buffer,
): Promise<void> {
  const loc = await startUpload(client, repo);
  await expect(client, 201, "PUT", withDigest(loc, digest), {
    body,
    headers: { "content-type": "application/octet-stream" },
  });
}

/** POST, PATCH each chunk with its Content-Range, then PUT ?digest= with no body. */
export async function pushChunked(
  client: Client,
  repo: string,
  digest: string,
  chunks: readonly Buffer[],
): Promise<void> {
  let loc = await startUpload(client, repo);
  let offset = 0;
  for (const chunk of chunks) {
    const res = await expect(client, 202, "PATCH", loc, {
      body: chunk,
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `${offset}-${offset + chunk.length - 1}`,
      },
    });
    offset += chunk.length;
    loc = location(res, "PATCH upload");
  }
  await expect(client, 201, "PUT", withDigest(loc, digest));
}

/** POST, then PUT ?digest= with a body streamed from an iterable of known total size. */
export async function pushStreamed(
  client: Client,
  repo: string,
  blob: { readonly digest: string; readonly size: number; readonly chunks: () => Iterable<Buffer> },
): Promise<void> {
  const loc = await startUpload(client, repo);
  await expect(client, 201, "PUT", withDigest(loc, blob.digest), {
    stream: blob.chunks(),
    headers: { "content-type": "application/octet-stream", "content-length": blob.size },
  });
}

/** GETs a blob, drops the body and returns the number of bytes received. */
export async function getBlob(client: Client, repo: string, digest: string): Promise<number> {
  const res = await expect(client, 200, "GET", `/v2/${repo}/blobs/${digest}`, {});
  return res.bytes;
}

export async function blobExists(client: Client, repo: string, digest: string): Promise<boolean> {
  const res = await client.request("HEAD", `/v2/${repo}/blobs/${digest}`);
  return res.status === 200;
}

export async function putManifest(
  client: Client,
  repo: string,
  ref: string,
  manifest: Buffer,
): Promise<void> {
  await expect(client, 201, "PUT", `/v2/${repo}/manifests/${ref}`, {
    body: manifest,
    headers: { "content-type": OCI_MANIFEST },
  });
}

export async function headManifest(client: Client, repo: string, ref: string): Promise<void> {
  await expect(client, 200, "HEAD", `/v2/${repo}/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
}

export async function getManifest(client: Client, repo: string, ref: string): Promise<number> {
  const res = await expect(client, 200, "GET", `/v2/${repo}/manifests/${ref}`, {
    headers: { accept: OCI_MANIFEST },
  });
  return res.bytes;
}

/** GET tags/list (no page size); the body is kept only when asked. */
export async function listTags(client: Client, repo: string, keep = false): Promise<Response> {
  return expect(client, 200, "GET", `/v2/${repo}/tags/list`, { keep });
}
