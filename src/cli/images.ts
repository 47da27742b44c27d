// Image references as the CLI takes them, and where images live: an OCI layout
// (`oci-layout:PATH:TAG`), the local image store (an OCI layout under the data folder whose tags
// are full references, its blob pool shared with pulled images), or a registry (pulled into the
// local store, pushed from it). Registries are spoken to with the credentials `strata login`
// stored for http(s)://HOST.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Image } from "../builder/runtime.ts";
import type { RegistryClient } from "../remote/index.ts";
import { formatReference, isImageManifest, parseReference, type Reference } from "../oci/index.ts";
import { loadCredentials } from "./credentials.ts";
import { usageError } from "./errors.ts";
import { hostPlatform } from "./platform.ts";

type Env = Readonly<Record<string, string | undefined>>;

export type ImageRef =
  | { readonly kind: "layout"; readonly text: string; readonly dir: string; readonly tag: string }
  | {
      readonly kind: "name";
      readonly text: string;
      readonly reference: Reference;
      /** The name in the local store: the reference with its tag (latest when none). */
      readonly local: string;
    };

const LAYOUT_RE = /^oci-layout:(.+):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/;

/** Parses `oci-layout:PATH:TAG` or `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`; usage error otherwise. */
export function parseImageLocation(text: string, what: string): ImageRef {
  if (text.startsWith("oci-layout:")) {
    const m = LAYOUT_RE.exec(text);
    if (m === null) throw usageError(`Invalid ${what} "${text}": expected oci-layout:PATH:TAG`);
    return { kind: "layout", text, dir: resolve(m[1] ?? ""), tag: m[2] ?? "" };
  }
  let reference: Reference;
  try {
    reference = parseReference(text);
  } catch (error) {
    throw usageError(`Invalid ${what} "${text}": ${(error as Error).message}`);
  }
  const local = formatReference(
    reference.tag === undefined && reference.digest === undefined
      ? { ...reference, tag: "latest" }
      : reference,
  );
  return { kind: "name", text, reference, local };
}

/** $XDG_DATA_HOME/strata, else ~/.local/share/strata. */
export function dataDir(env: Env): string {
  if (env.STRATA_DATA_DIR) return resolve(env.STRATA_DATA_DIR);
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "strata");
  if (env.HOME) return join(env.HOME, ".local", "share", "strata");
  throw usageError("Cannot find where to keep images: set STRATA_DATA_DIR, XDG_DATA_HOME or HOME");
}

/** The local image store: an OCI layout. */
export const localImages = (env: Env): string => join(dataDir(env), "images");

/** A client for `registry` with the credentials stored for it. */
export async function registryClient(registry: string, env: Env, insecure = false): Promise<RegistryClient> {
  const { RegistryClient } = await import("../remote/index.ts");
  const credentials =
    (await loadCredentials(env, `http://${registry.toLowerCase()}`)) ??
    (await loadCredentials(env, `https://${registry.toLowerCase()}`));
  return new RegistryClient({
    registry,
    ...(credentials === undefined ? {} : { credentials }),
    insecure,
  });
}

export interface ResolveOptions {
  readonly env: Env;
  readonly insecure?: boolean;
  /** "missing" (default): a name in the local store is used as it is; "always": pulled again. */
  readonly pull?: "missing" | "always";
  readonly progress?: (line: string) => void;
}

/** Reads an image by reference: from a layout, the local store, or pulled from its registry. */
export async function resolveImage(ref: ImageRef, options: ResolveOptions): Promise<Image> {
  const { readImageFromLayout, tagInLayout } = await import("../builder/runtime.ts");
  if (ref.kind === "layout") return readImageFromLayout(ref.dir, ref.tag);
  const store = localImages(options.env);
  if (options.pull !== "always" || ref.reference.registry === undefined) {
    const local = await readImageFromLayout(store, ref.local).catch(() => undefined);
    if (local !== undefined) return local;
  }
  const registry = ref.reference.registry;
  if (registry === undefined)
    throw usageError(
      `No image "${ref.local}" in the local store, and it names no registry to pull from (e.g. 127.0.0.1:5000/${ref.text})`,
    );
  const remote = await import("../remote/index.ts");
  const client = await registryClient(registry, options.env, options.insecure);
  options.progress?.(`Pulling ${ref.text}`);
  // As `strata pull`: this machine's platform, with its referrers; tagged once it is an image.
  const scratch = await mkdtemp(join(tmpdir(), "strata-pull-"));
  let pulled;
  try {
    pulled = await remote.copyImage(
      remote.createRegistryEndpoint(client, ref.reference.repository),
      remote.referenceTarget(ref.reference),
      remote.createLayoutEndpoint(store),
      { platform: hostPlatform(), scratch },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (!isImageManifest(pulled.mediaType))
    throw new remote.RemoteError(`${ref.text} is not an image (media type ${pulled.mediaType})`);
  await tagInLayout(store, ref.local, {
    mediaType: pulled.mediaType,
    digest: pulled.digest,
    size: pulled.size,
  });
  return readImageFromLayout(store, ref.local);
}
