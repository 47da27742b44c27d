// The places `pull`, `push`, `copy` and `inspect` read and write: an OCI layout
// (`oci-layout:PATH:TAG`), the local image store (a name, kept there as its full reference) or a
// registry (a name with a registry, spoken to with the credentials `strata login` stored).
import type { Endpoint } from "../remote/index.ts";
import { CliError, usageError } from "./errors.ts";
import { localImages, registryClient, type ImageRef } from "./images.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface Place {
  readonly endpoint: Endpoint;
  /** What to read there: a tag or a digest. */
  readonly reference: string;
  /** The tag a copy writes there; undefined for a digest reference (stored by digest). */
  readonly tag: string | undefined;
  /** How to show it: the reference as given, or its local name. */
  readonly name: string;
}

/** The local image store's entry for a name (its full reference), or a layout's tag. */
export async function localPlace(ref: ImageRef, env: Env): Promise<Place> {
  const { createLayoutEndpoint } = await import("../remote/index.ts");
  if (ref.kind === "layout")
    return { endpoint: createLayoutEndpoint(ref.dir), reference: ref.tag, tag: ref.tag, name: ref.text };
  const digest = ref.reference.digest;
  const store = createLayoutEndpoint(localImages(env), "The local store");
  const endpoint: Endpoint = {
    ...store,
    resolve: (reference) =>
      store.resolve(reference).catch((error: unknown) => {
        if ((error as { status?: number }).status !== 404) throw error;
        throw new CliError(`No image "${ref.text}" in the local store (strata images lists them)`, 1, {
          cause: error,
        });
      }),
  };
  return {
    endpoint,
    reference: digest ?? ref.local,
    tag: digest === undefined ? ref.local : undefined,
    name: ref.local,
  };
}

/** A registry reference's repository; a usage error for a name without a registry. */
export async function registryPlace(
  ref: ImageRef,
  env: Env,
  insecure: boolean,
  what: string,
): Promise<Place> {
  if (ref.kind === "layout") return localPlace(ref, env);
  const registry = ref.reference.registry;
  if (registry === undefined)
    throw usageError(`Invalid ${what} "${ref.text}": it names no registry (e.g. 127.0.0.1:5000/${ref.text})`);
  const { createRegistryEndpoint } = await import("../remote/index.ts");
  const client = await registryClient(registry, env, insecure);
  const { digest, tag } = ref.reference;
  return {
    endpoint: createRegistryEndpoint(client, ref.reference.repository),
    reference: digest ?? tag ?? "latest",
    tag: digest === undefined ? (tag ?? "latest") : undefined,
    name: ref.text,
  };
}
