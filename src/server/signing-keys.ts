// The galleries' signing keys of the configuration (`gallery.signing`), read once at start: a
// key that cannot be read — missing file, wrong password, not P-256 — stops the start with the
// configuration key and the reason, rather than a gallery that silently publishes unsigned.
import type { GallerySigning } from "../gallery/index.ts";
import { signingKeyFromFile, trustedKeyFromFile, trustedKeyOf, type TrustedKey } from "../sign/index.ts";
import type { GalleryConfig } from "./config.ts";

export async function loadGallerySigning(
  signing: GalleryConfig["signing"],
): Promise<Map<string, GallerySigning>> {
  const out = new Map<string, GallerySigning>();
  for (const [gallery, entry] of Object.entries(signing)) {
    const where = `gallery.signing.${gallery}`;
    const fail = (key: string, error: unknown): never => {
      throw new Error(`${where}.${key}: ${(error as Error).message}`, { cause: error });
    };
    const key =
      entry.key === undefined
        ? undefined
        : await signingKeyFromFile(entry.key, async () => {
            if (entry.password === undefined)
              throw new Error(`"${entry.key}" is encrypted: give its password in ${where}.password`);
            return entry.password;
          }).catch((error: unknown) => fail("key", error));
    const trusted: TrustedKey[] = key === undefined ? [] : [trustedKeyOf(key, entry.key)];
    for (const file of entry.trust)
      trusted.push(await trustedKeyFromFile(file).catch((error: unknown) => fail("trust", error)));
    out.set(gallery, { ...(key === undefined ? {} : { key }), trusted });
  }
  return out;
}
