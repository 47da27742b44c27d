// Blob endpoints: GET/HEAD (with Range) and DELETE of /v2/<name>/blobs/<digest>.
import type { Digest } from "../../oci/index.ts";
import { canSend, type BlobInfo } from "../../store/index.ts";
import type { RegistryResponse, RequestContext } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { parseRangeHeader } from "../http-ranges.ts";
import { digestParam, header, nameOf, userOf } from "./common.ts";

async function findBlob(ctx: RequestContext, digest: Digest): Promise<BlobInfo> {
  const name = nameOf(ctx);
  const linked = await ctx.deps.meta.blobs.get(name, digest);
  if (linked !== undefined) return linked;
  // A manifest's bytes are content too: serve them by digest as Distribution does.
  const manifest = await ctx.deps.meta.manifests.get(name, digest);
  if (manifest !== undefined) return { digest, size: manifest.size };
  throw new RegistryError("BLOB_UNKNOWN", `Blob "${digest}" is not in repository "${name}"`, {
    detail: { digest },
  });
}

export async function getBlob(ctx: RequestContext): Promise<RegistryResponse> {
  const digest = digestParam(ctx.params.digest);
  const blob = await findBlob(ctx, digest);
  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    ETag: `"${digest}"`,
    "Cache-Control": "max-age=31536000",
  };
  const range = parseRangeHeader(header(ctx, "range"), blob.size);
  if (ctx.method === "HEAD") {
    return { status: 200, headers: { ...headers, "Content-Length": blob.size } };
  }
  const { blobs } = ctx.deps;
  if (range !== undefined) {
    const body = canSend(blobs) ? await blobs.sender(digest, range) : await blobs.open(digest, range);
    return {
      status: 206,
      headers: {
        ...headers,
        "Content-Length": range.end - range.start + 1,
        "Content-Range": `bytes ${range.start}-${range.end}/${blob.size}`,
      },
      body,
    };
  }
  const body = canSend(blobs) ? await blobs.sender(digest) : await blobs.open(digest);
  return { status: 200, headers: { ...headers, "Content-Length": blob.size }, body };
}

export async function deleteBlob(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const digest = digestParam(ctx.params.digest);
  const refusal = await ctx.deps.hooks?.checkBlobDelete?.(name, digest, ctx.user);
  if (refusal !== undefined) throw new RegistryError("DENIED", refusal, { detail: { digest } });
  const removed = await ctx.deps.meta.blobs.unlink(name, digest);
  if (!removed) {
    throw new RegistryError("BLOB_UNKNOWN", `Blob "${digest}" is not in repository "${name}"`, {
      detail: { digest },
    });
  }
  ctx.deps.events.emit("blob.deleted", { repository: name, digest, ...userOf(ctx) });
  return { status: 202, headers: { "Content-Length": 0 } };
}
