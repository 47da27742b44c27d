// `--sign` of the commands that put content in a registry (`build --push`/`--publish`, `version
// publish`): the manifest is signed where it lies — a Sigstore bundle attached as a referrer, as
// `strata sign` attaches it — so a gallery publish that copies the content brings the signature
// along. The key is read before anything is written, so an expired key or a wrong passphrase
// stops the command with nothing changed.
import type { RegistryClient } from "../remote/index.ts";
import type { SigningKey } from "../sign/index.ts";
import type { CliIo } from "./io.ts";
import { registryClient } from "./images.ts";
import { signingKeyOf, withSignErrors } from "./sign-keys.ts";

/** `--sign [key]`: true for the default key. */
export type SignFlag = string | boolean | undefined;

/** The key `--sign` names, checked able to sign now; undefined without `--sign`. */
export async function keyForSign(io: CliIo, flag: SignFlag): Promise<SigningKey | undefined> {
  if (flag === undefined || flag === false) return undefined;
  return withSignErrors(async () => {
    const { assertKeyCanSign } = await import("../sign/index.ts");
    const key = await signingKeyOf(io, flag === true ? "default" : flag);
    assertKeyCanSign(key, new Date());
    return key;
  });
}

/** Signs `repository`@`reference` (a tag or digest) in `registry`; returns the bundle's digest. */
export async function signInRegistry(
  io: CliIo,
  key: SigningKey,
  target: { registry: string; repository: string; reference: string; insecure?: boolean },
  name: string,
): Promise<string> {
  const { signImage } = await import("../sign/index.ts");
  const { createRegistryEndpoint } = await import("../remote/index.ts");
  const client = await registryClient(target.registry, io.env, target.insecure === true);
  const result = await withSignErrors(() =>
    signImage(createRegistryEndpoint(client, target.repository), target.reference, key, { reference: name }),
  );
  return result.bundle.digest;
}

/**
 * Signs each of `digests` (an image, its provenance and SBOM referrers, a disk) in `repository`
 * of the registry `client` speaks to; returns the signature referrers' digests.
 */
export async function signPushed(
  client: RegistryClient,
  repository: string,
  digests: readonly string[],
  key: SigningKey,
  name: string,
): Promise<string[]> {
  const { signImage } = await import("../sign/index.ts");
  const { createRegistryEndpoint } = await import("../remote/index.ts");
  const endpoint = createRegistryEndpoint(client, repository);
  const out: string[] = [];
  for (const digest of digests)
    out.push(
      (await withSignErrors(() => signImage(endpoint, digest, key, { reference: name }))).bundle.digest,
    );
  return out;
}
