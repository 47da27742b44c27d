// A version's signatures checked against its gallery's trusted keys (those of `gallery.signing`:
// the signing key and the `trust` files), as `strata verify` checks them: every Sigstore bundle
// referrer and legacy `.sig` signature of the version's digest, each valid or with the reason it
// is not (unknown key, bad signature, wrong digest, key expired, malformed). Readers only.
import type { Digest } from "../oci/index.ts";
import { verifyImage, type SignatureCheck } from "../sign/index.ts";
import { requireRole, type Actor, type GalleryContext } from "./context.ts";
import type { VersionSignatures } from "./model.ts";
import { storeEndpoint } from "./store-endpoint.ts";
import type { VersionKey } from "./version-rows.ts";
import { mustLoadVersionRow } from "./version-rows.ts";

export function signatureCheckOps(ctx: GalleryContext) {
  return {
    async check(actor: Actor, key: VersionKey): Promise<VersionSignatures> {
      await requireRole(ctx, ctx.db, actor, key.gallery, "reader");
      const row = await mustLoadVersionRow(ctx.db, key.gallery, key.image, key.version);
      const signing = ctx.signing.get(key.gallery);
      const trusted = signing?.trusted ?? [];
      const base = { ...key, digest: row.digest, trustedKeys: trusted.length };
      // Without a trusted key nothing can be told valid; verifyImage refuses to try.
      if (trusted.length === 0) return { ...base, verified: false, signatures: [] };
      const result = await verifyImage(
        storeEndpoint(ctx, `${key.gallery}/${key.image}`),
        row.digest as Digest,
        trusted,
        { now: new Date(ctx.now()) },
      );
      return {
        ...base,
        verified: result.verified,
        signatures: result.signatures.map((s) => view(s, signing?.key?.keyId)),
      };
    },
  };
}

/** A check as the API shows it: the key by id (its file name stays on the server). */
function view(s: SignatureCheck, signingKeyId: string | undefined): VersionSignatures["signatures"][number] {
  return {
    format: s.format,
    source: s.source,
    status: s.status,
    valid: s.valid,
    ...(s.keyId === undefined ? {} : { keyId: s.keyId }),
    ...(s.keyId === undefined || s.status === "untrusted-key"
      ? {}
      : { gallerySigningKey: s.keyId === signingKeyId }),
    ...(s.signedAt === undefined ? {} : { signedAt: s.signedAt }),
    covers: {
      ...(s.covers.digest === undefined ? {} : { digest: s.covers.digest }),
      ...(s.covers.reference === undefined ? {} : { reference: s.covers.reference }),
    },
    ...(s.problem === undefined ? {} : { problem: s.problem }),
  };
}
