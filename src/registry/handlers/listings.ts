// Listing endpoints: tags (with n/last and Link), the catalog (paginated, filtered by what the
// caller may pull) and referrers (with the artifactType filter).
import { MediaType } from "../../oci/index.ts";
import type { RegistryResponse, RequestContext } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { parsePageSize } from "../http-ranges.ts";
import { digestParam, nameOf } from "./common.ts";

/** Most entries one page returns; larger n values are capped and a Link header points on. */
export const MAX_PAGE = 10_000;

function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export async function listTags(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const { meta } = ctx.deps;
  const n = parsePageSize(ctx.query.get("n"), MAX_PAGE);
  const last = ctx.query.get("last") ?? undefined;
  if (!(await meta.repositories.exists(name))) {
    throw new RegistryError("NAME_UNKNOWN", `Repository "${name}" is not known`, { detail: { name } });
  }
  if (n === 0) return { status: 200, body: { name, tags: [] } };
  const size = n ?? MAX_PAGE;
  const page = await meta.tags.list(name, { n: size + 1, ...(last === undefined ? {} : { last }) });
  const tags = page.slice(0, size);
  const headers: Record<string, string> = {};
  const lastTag = tags[tags.length - 1];
  if (page.length > size && lastTag !== undefined)
    headers.Link = nextLink(`/v2/${name}/tags/list`, size, lastTag);
  return { status: 200, headers, body: { name, tags } };
}

export async function listCatalog(ctx: RequestContext): Promise<RegistryResponse> {
  const { meta, auth } = ctx.deps;
  const n = parsePageSize(ctx.query.get("n"), MAX_PAGE);
  let last = ctx.query.get("last") ?? undefined;
  if (n === 0) return { status: 200, body: { repositories: [] } };
  const size = n ?? MAX_PAGE;
  const out: string[] = [];
  let more = false;
  // Filtering by access may drop entries, so read pages until this one is full.
  for (;;) {
    const page = await meta.repositories.list({ n: size + 1, ...(last === undefined ? {} : { last }) });
    for (const repo of page) {
      if (!auth.enabled || (await auth.canPull(ctx.user, repo))) {
        if (out.length === size) {
          more = true;
          break;
        }
        out.push(repo);
      }
    }
    if (more || page.length <= size) break;
    last = page[page.length - 1];
  }
  const headers: Record<string, string> = {};
  const lastRepo = out[out.length - 1];
  if (more && lastRepo !== undefined) headers.Link = nextLink("/v2/_catalog", size, lastRepo);
  return { status: 200, headers, body: { repositories: out } };
}

export async function listReferrers(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const subject = digestParam(ctx.params.digest);
  const artifactType = ctx.query.get("artifactType") ?? undefined;
  const records = await ctx.deps.meta.manifests.referrers(name, subject, artifactType);
  const manifests = records.map((r) => ({
    mediaType: r.mediaType,
    digest: r.digest,
    size: r.size,
    ...(r.artifactType === undefined ? {} : { artifactType: r.artifactType }),
    ...(r.annotations === undefined ? {} : { annotations: r.annotations }),
  }));
  const headers: Record<string, string> = { "Content-Type": MediaType.ImageIndex };
  if (artifactType !== undefined) headers["OCI-Filters-Applied"] = "artifactType";
  return { status: 200, headers, body: { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests } };
}
