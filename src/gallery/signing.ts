// Signing by the server: a gallery configured with a key signs every version published or copied
// into it — a Sigstore bundle over the version's digest, attached as a referrer in the version's
// repository exactly as `strata sign` attaches one — before the version's row is written, so a
// version of such a gallery is never visible unsigned. A key past its not-after date signs
// nothing: publishing into its gallery is refused until the key is rotated.
import { assertKeyCanSign, SignError, signImage } from "../sign/index.ts";
import type { GalleryContext } from "./context.ts";
import { GalleryError, q } from "./errors.ts";
import { storeEndpoint } from "./store-endpoint.ts";

/** Refuses, before anything is written, a change a gallery's expired key would have to sign. */
export function checkSigningKey(ctx: GalleryContext, gallery: string): void {
  const key = ctx.signing.get(gallery)?.key;
  if (key === undefined) return;
  try {
    assertKeyCanSign(key, new Date(ctx.now()));
  } catch (error) {
    if (!(error instanceof SignError)) throw error;
    throw new GalleryError(
      "CONFLICT",
      `Gallery ${q(gallery)} signs what it receives, and its key cannot sign: ${error.message}`,
      { cause: error },
    );
  }
}

/**
 * Signs `digest` in the version's repository with the gallery's key, when it has one; returns
 * the signature referrer's digest.
 */
export async function signVersion(
  ctx: GalleryContext,
  target: { gallery: string; image: string; version: string },
  digest: string,
): Promise<string | undefined> {
  const key = ctx.signing.get(target.gallery)?.key;
  if (key === undefined) return undefined;
  checkSigningKey(ctx, target.gallery);
  const repository = `${target.gallery}/${target.image}`;
  const result = await signImage(storeEndpoint(ctx, repository), digest, key, {
    reference: `${repository}:${target.version}`,
    now: new Date(ctx.now()),
  });
  ctx.log.info(
    { repository, digest, keyId: key.keyId, signature: result.bundle.digest },
    `Signed ${repository}:${target.version} with the gallery's key`,
  );
  return result.bundle.digest;
}
