// Helpers shared by the handlers: required parameters, request body presence, Location URLs.
import { parseDigest, type Digest, type RepositoryName } from "../../oci/index.ts";
import type { RequestContext } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { contentLength } from "../http-ranges.ts";

export function nameOf(ctx: RequestContext): RepositoryName {
  const name = ctx.params.name;
  if (name === undefined) throw new Error("Route without a repository name");
  return name;
}

export function digestParam(value: string | null | undefined, what = "digest"): Digest {
  if (value === null || value === undefined || value === "") {
    throw new RegistryError("DIGEST_INVALID", `Missing ${what}`);
  }
  return parseDigest(value);
}

/** True when the request carries a body (non-zero Content-Length or chunked transfer). */
export function hasBody(ctx: RequestContext): boolean {
  const length = contentLength(header(ctx, "content-length"));
  if (length !== undefined) return length > 0;
  return header(ctx, "transfer-encoding") !== undefined;
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.raw.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function blobLocation(name: string, digest: string): string {
  return `/v2/${name}/blobs/${digest}`;
}

export function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

/** The Range header value for an upload holding `offset` bytes. */
export function uploadRange(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}

export function userOf(ctx: RequestContext): { user?: string } {
  return ctx.user === undefined ? {} : { user: ctx.user };
}
