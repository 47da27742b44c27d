// Upload endpoints: POST (session, single-POST, mount), PATCH (streamed or chunked), PUT (close),
// GET (status) and DELETE (cancel) under /v2/<name>/blobs/uploads/.
import { isRepositoryName, type Digest } from "../../oci/index.ts";
import { withClaim, type UploadSession } from "../../store/index.ts";
import type { RegistryResponse, RequestContext } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { contentLength, parseContentRange } from "../http-ranges.ts";
import {
  blobLocation,
  digestParam,
  hasBody,
  header,
  nameOf,
  uploadLocation,
  uploadRange,
  userOf,
} from "./common.ts";

function created(name: string, digest: Digest): RegistryResponse {
  return {
    status: 201,
    headers: { Location: blobLocation(name, digest), "Docker-Content-Digest": digest, "Content-Length": 0 },
  };
}

function accepted(session: UploadSession, status = 202): RegistryResponse {
  return {
    status,
    headers: {
      Location: uploadLocation(session.repository, session.id),
      Range: uploadRange(session.offset),
      "Docker-Upload-UUID": session.id,
      "Content-Length": 0,
    },
  };
}

export async function startUpload(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const { deps } = ctx;
  const mount = ctx.query.get("mount");
  if (mount !== null) {
    const digest = digestParam(mount, "mount digest");
    const from = ctx.query.get("from");
    if (from !== null && isRepositoryName(from) && (await deps.auth.canPull(ctx.user, from))) {
      // Claimed before the check, so the blob cannot be collected between check and link.
      const mounted = await withClaim(deps.meta, [digest], async (claim) => {
        const blob = await deps.meta.blobs.get(from, digest);
        if (blob === undefined || (await deps.blobs.stat(digest)) === undefined) return false;
        await deps.meta.blobs.link(name, blob, { claim });
        return true;
      });
      if (mounted) {
        deps.events.emit("blob.mounted", { repository: name, from, digest, ...userOf(ctx) });
        return created(name, digest);
      }
    }
    // Not mountable: fall back to a regular upload session, as the spec asks.
    return accepted(await deps.uploads.create(name));
  }
  const digestValue = ctx.query.get("digest");
  if (digestValue !== null) {
    const digest = digestParam(digestValue);
    const size = contentLength(header(ctx, "content-length"));
    // Claimed before the write: a blob already in the pool keeps its file, which the claim
    // protects from collection until the link is in.
    const blob = await withClaim(deps.meta, [digest], async (claim) => {
      const put = await deps.blobs.put(size === undefined ? { digest } : { digest, size }, ctx.raw);
      await deps.meta.blobs.link(name, put, { claim });
      return put;
    });
    deps.events.emit("blob.pushed", { repository: name, digest, size: blob.size, ...userOf(ctx) });
    return created(name, digest);
  }
  if (hasBody(ctx)) {
    throw new RegistryError("BLOB_UPLOAD_INVALID", "A POST with a body needs the digest query parameter");
  }
  return accepted(await deps.uploads.create(name));
}

async function sessionOf(ctx: RequestContext): Promise<UploadSession> {
  const name = nameOf(ctx);
  const id = ctx.params.uuid ?? "";
  const session = /^[A-Za-z0-9_-]{1,128}$/.test(id) ? await ctx.deps.uploads.get(name, id) : undefined;
  if (session === undefined) {
    throw new RegistryError("BLOB_UPLOAD_UNKNOWN", `Upload "${id}" is unknown in repository "${name}"`, {
      detail: { uuid: id },
    });
  }
  return session;
}

/** Reads Content-Range/Content-Length of a chunk and checks they agree with the session. */
function chunkOptions(ctx: RequestContext, session: UploadSession): { offset: number; length?: number } {
  const range = parseContentRange(header(ctx, "content-range"));
  const length = contentLength(header(ctx, "content-length"));
  if (range === undefined)
    return length === undefined ? { offset: session.offset } : { offset: session.offset, length };
  if (range.start !== session.offset) {
    throw new RegistryError(
      "BLOB_UPLOAD_INVALID",
      `Chunk out of order: Content-Range starts at ${range.start}, the upload has ${session.offset} bytes`,
      {
        status: 416,
        headers: {
          Location: uploadLocation(session.repository, session.id),
          Range: uploadRange(session.offset),
        },
      },
    );
  }
  const rangeLength = range.end - range.start + 1;
  if (length !== undefined && length !== rangeLength) {
    throw new RegistryError(
      "SIZE_INVALID",
      `Content-Length ${length} does not match Content-Range "${range.start}-${range.end}"`,
    );
  }
  return { offset: range.start, length: rangeLength };
}

export async function patchUpload(ctx: RequestContext): Promise<RegistryResponse> {
  const session = await sessionOf(ctx);
  const options = chunkOptions(ctx, session);
  const next = await ctx.deps.uploads.append(session, ctx.raw, options);
  return accepted(next);
}

export async function finishUpload(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const session = await sessionOf(ctx);
  const digest = digestParam(ctx.query.get("digest"));
  let blob;
  if (hasBody(ctx)) {
    const options = chunkOptions(ctx, session);
    const next = await ctx.deps.uploads.append(session, ctx.raw, options);
    blob = await ctx.deps.uploads.commit(next, { digest });
  } else {
    blob = await ctx.deps.uploads.commit(session, { digest });
  }
  ctx.deps.events.emit("blob.pushed", { repository: name, digest, size: blob.size, ...userOf(ctx) });
  return created(name, digest);
}

export async function uploadStatus(ctx: RequestContext): Promise<RegistryResponse> {
  return accepted(await sessionOf(ctx), 204);
}

export async function cancelUpload(ctx: RequestContext): Promise<RegistryResponse> {
  const session = await sessionOf(ctx);
  await ctx.deps.uploads.cancel(session);
  return { status: 204, headers: { "Content-Length": 0 } };
}
