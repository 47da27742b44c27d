// A configured site as the reconciler speaks to it: an OCI client for its registry (plain HTTP
// for an http:// URL), and where a version of this server lands there.
import { RegistryClient } from "../remote/index.ts";
import { ReplicateError } from "./errors.ts";

/** A site of the configuration (`sites.<name>`). */
export interface SiteSpec {
  readonly name: string;
  readonly url: string;
  readonly kind: "strata" | "registry";
  readonly region?: string;
  readonly username?: string;
  readonly password?: string;
  readonly repositoryPrefix?: string;
}

export interface Site extends SiteSpec {
  readonly client: RegistryClient;
  /** The site's URL without a trailing slash, for its gallery API. */
  readonly base: string;
}

export function openSite(spec: SiteSpec, options: { timeoutMs?: number } = {}): Site {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch (error) {
    throw new ReplicateError(`Site "${spec.name}" has an invalid url "${spec.url}"`, { cause: error });
  }
  const client = new RegistryClient({
    registry: url.host,
    insecure: url.protocol === "http:",
    ...(spec.username === undefined
      ? {}
      : { credentials: { username: spec.username, password: spec.password ?? "" } }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  return { ...spec, client, base: `${url.protocol}//${url.host}` };
}

/**
 * The repository a version of `<gallery>/<image>` lands in: the same at a Strata site (its
 * gallery), `<repositoryPrefix>/<gallery>/<image>` at a registry site.
 */
export function siteRepository(site: SiteSpec, gallery: string, image: string): string {
  const own = `${gallery}/${image}`;
  if (site.kind === "strata" || site.repositoryPrefix === undefined) return own;
  return `${site.repositoryPrefix.replace(/^\/+|\/+$/g, "")}/${own}`;
}
