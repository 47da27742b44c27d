// Fact documents for the policy tests: a signed, fresh gallery version with an SBOM, a
// provenance and a base, changed field by field with `facts({ … })`.
import type { ImageFacts } from "./facts.ts";

export const NOW = Date.parse("2026-03-01T00:00:00Z");
export const RELEASE_KEY = "3f2a".padEnd(64, "0");
export const CI_KEY = "9c1d".padEnd(64, "1");
const DIGEST = `sha256:${"ab".repeat(32)}`;

export function facts(patch: Partial<ImageFacts> = {}): ImageFacts {
  return {
    reference: "prod/web:1.4.2",
    registry: "",
    repository: "prod/web",
    tag: "1.4.2",
    digest: DIGEST,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    kind: "image",
    created: "2026-02-20T00:00:00Z",
    ageDays: 9,
    labels: { "org.opencontainers.image.source": "https://git.example/web" },
    gallery: {
      gallery: "prod",
      image: "web",
      version: "1.4.2",
      state: "published",
      pastEol: false,
      channels: ["production"],
      latest: true,
      ref: "version",
    },
    signatures: [{ keyId: RELEASE_KEY, keyName: "release", valid: true, signedAt: "2026-02-20T01:00:00Z" }],
    sbom: {
      present: true,
      formats: ["spdx"],
      packageCount: 2,
      packages: [
        {
          name: "openssl",
          version: "3.0.15-1~deb12u1",
          type: "deb",
          purl: "pkg:deb/debian/openssl@3.0.15-1~deb12u1",
        },
        { name: "musl", version: "1.2.4-r2", type: "apk" },
      ],
    },
    provenance: {
      present: true,
      builderId: "https://strata.example/builder@v1",
      source: "git+https://git.example/web",
      revision: "abc",
    },
    base: { digest: `sha256:${"cd".repeat(32)}`, definition: "base/debian", version: "12.5.0" },
    ...patch,
  };
}
