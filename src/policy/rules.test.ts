// Every built-in rule, passing and failing with the reason a person reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareVersions } from "../diff/index.ts";
import type { PackageType } from "../sbom/index.ts";
import { compilePolicies, evaluate, type ImageFacts, type VersionComparator } from "./index.ts";
import { CI_KEY, facts, NOW, RELEASE_KEY } from "./test-support.ts";

const KEYS = new Map([
  ["release", RELEASE_KEY],
  ["ci", CI_KEY],
]);
const ordering: VersionComparator = (type, a, b) =>
  ["deb", "rpm", "apk"].includes(type) ? compareVersions(type as PackageType, a, b) : undefined;

/** The reasons `rules` fail for `image` (empty when it passes). */
function reasons(rules: Record<string, unknown>, image: ImageFacts): string[] {
  const policies = compilePolicies([{ name: "p", mode: "enforce", rules }], {
    keys: KEYS,
    compareVersions: ordering,
  });
  return evaluate(policies, image, "pull", { now: NOW }).failures.map((f) => `${f.rule}: ${f.reason}`);
}

describe("signedBy", () => {
  it("passes with a valid signature by a named key, by name or by key id", () => {
    assert.deepEqual(reasons({ signedBy: ["release", "ci"] }, facts()), []);
    assert.deepEqual(reasons({ signedBy: [RELEASE_KEY] }, facts()), []);
    const unnamed = facts({ signatures: [{ keyId: CI_KEY, valid: true }] });
    assert.deepEqual(reasons({ signedBy: ["ci"] }, unnamed), [], "the name resolves through the keys");
  });
  it("fails naming the keys and what was found", () => {
    assert.deepEqual(reasons({ signedBy: ["ci"] }, facts()), [
      "signedBy: not signed by any of ci (found: key 3f2a00000000… (release))",
    ]);
    assert.deepEqual(reasons({ signedBy: ["release"] }, facts({ signatures: [] })), [
      "signedBy: not signed by any of release (no signatures)",
    ]);
    const invalid = facts({ signatures: [{ keyId: RELEASE_KEY, valid: false }] });
    assert.deepEqual(reasons({ signedBy: ["release"] }, invalid), [
      "signedBy: not signed by any of release (found: key 3f2a00000000… invalid)",
    ]);
  });
  it("counts distinct keys against a threshold", () => {
    const both = facts({
      signatures: [
        { keyId: RELEASE_KEY, valid: true },
        { keyId: CI_KEY, valid: true },
      ],
    });
    assert.deepEqual(reasons({ signedBy: { keys: ["release", "ci"], threshold: 2 } }, both), []);
    const twice = facts({
      signatures: [
        { keyId: RELEASE_KEY, valid: true },
        { keyId: RELEASE_KEY, valid: true },
      ],
    });
    assert.match(
      reasons({ signedBy: { keys: ["release", "ci"], threshold: 2 } }, twice)[0] ?? "",
      /^signedBy: signed by 1 of release, ci, 2 needed \(found: /,
    );
  });
});

describe("sbom and provenance", () => {
  it("sbom", () => {
    assert.deepEqual(reasons({ sbom: true }, facts()), []);
    assert.deepEqual(
      reasons(
        { sbom: true },
        facts({ sbom: { present: false, formats: [], packageCount: 0, packages: [] } }),
      ),
      ["sbom: no SBOM attached"],
    );
  });
  it("provenance, from a named builder", () => {
    assert.deepEqual(reasons({ provenance: true }, facts()), []);
    assert.deepEqual(reasons({ provenance: { builder: "https://strata.example/builder@v1" } }, facts()), []);
    assert.deepEqual(reasons({ provenance: { builders: ["https://ci.example/b"] } }, facts()), [
      'provenance: built by "https://strata.example/builder@v1", not "https://ci.example/b"',
    ]);
    assert.deepEqual(reasons({ provenance: true }, facts({ provenance: { present: false } })), [
      "provenance: no provenance attached",
    ]);
  });
});

describe("galleryOnly", () => {
  it("passes versions, channels, latest and digests a version pins", () => {
    for (const ref of ["version", "channel", "latest", "digest"] as const) {
      const g = facts().gallery;
      assert.ok(g !== undefined);
      assert.deepEqual(reasons({ galleryOnly: true }, facts({ gallery: { ...g, ref } })), [], ref);
    }
  });
  it("fails plain repositories, digests outside a version and ordinary tags", () => {
    const plain = facts({ repository: "builds/web", tag: "ci-7", reference: "builds/web:ci-7" });
    const { gallery: _g, ...noGallery } = plain;
    assert.deepEqual(reasons({ galleryOnly: true }, noGallery), [
      "galleryOnly: builds/web:ci-7 is not a gallery version",
    ]);
    const { tag: _t, ...byDigest } = noGallery;
    assert.deepEqual(reasons({ galleryOnly: true }, byDigest), [
      "galleryOnly: builds/web@abababababab… is not a version of any gallery",
    ]);
    const g = facts().gallery;
    assert.ok(g !== undefined);
    assert.deepEqual(
      reasons({ galleryOnly: true }, facts({ tag: "build-7", gallery: { ...g, ref: "tag" } })),
      ['galleryOnly: tag "build-7" is not a version or channel of prod/web'],
    );
  });
});

describe("noMovableTags", () => {
  const g = facts().gallery;
  assert.ok(g !== undefined);
  const { gallery: _g, ...plain } = facts();
  const cases: [string, ImageFacts, string | undefined][] = [
    ["a gallery version", facts(), undefined],
    ["a version-shaped tag", { ...plain, tag: "v2.10.0-rc.1+b5" }, undefined],
    ["a digest", (({ tag: _t, ...rest }) => rest)(plain), undefined],
    [
      "latest",
      facts({ tag: "latest", gallery: { ...g, ref: "latest" } }),
      'tag "latest" is movable: pin a version or a digest',
    ],
    [
      "a channel",
      facts({ tag: "production", gallery: { ...g, ref: "channel" } }),
      'channel "production" is movable: pin a version or a digest',
    ],
    [
      "a floating minor",
      { ...plain, tag: "1.4" },
      'tag "1.4" is not a version number: pin a version or a digest',
    ],
    ["a branch", { ...plain, tag: "main" }, 'tag "main" is not a version number: pin a version or a digest'],
    [
      "leading zeros",
      { ...plain, tag: "1.04.2" },
      'tag "1.04.2" is not a version number: pin a version or a digest',
    ],
  ];
  for (const [name, image, want] of cases)
    it(name, () =>
      assert.deepEqual(
        reasons({ noMovableTags: true }, image),
        want === undefined ? [] : [`noMovableTags: ${want}`],
      ),
    );
});

describe("maxAge", () => {
  it("passes within the cadence and fails past it, in days", () => {
    assert.deepEqual(reasons({ maxAge: "30d" }, facts()), []);
    assert.deepEqual(reasons({ maxAge: "30d" }, facts({ created: "2026-01-19T00:00:00Z" })), [
      "maxAge: built 41 days ago, more than 30 days",
    ]);
    assert.deepEqual(reasons({ maxAge: "1w" }, facts()), ["maxAge: built 9 days ago, more than 7 days"]);
    assert.deepEqual(reasons({ maxAge: "12h" }, facts({ created: "2026-02-28T06:00:00Z" })), [
      "maxAge: built 18 hours ago, more than 12h",
    ]);
  });
  it("fails without a creation time", () => {
    const { created: _c, ...none } = facts();
    assert.deepEqual(reasons({ maxAge: "30d" }, none), ["maxAge: the image records no creation time"]);
    assert.deepEqual(reasons({ maxAge: "30d" }, facts({ created: "yesterday" })), [
      'maxAge: the image\'s creation time "yesterday" is not a date',
    ]);
  });
});

describe("allowedBases", () => {
  it("passes a base of an allowed definition, globs included", () => {
    assert.deepEqual(reasons({ allowedBases: ["base/debian"] }, facts()), []);
    assert.deepEqual(reasons({ allowedBases: ["base/*"] }, facts()), []);
  });
  it("fails another definition, a base outside galleries and no base", () => {
    assert.deepEqual(reasons({ allowedBases: ["base/alpine"] }, facts()), [
      "allowedBases: base base/debian:12.5.0 is not one of base/alpine",
    ]);
    assert.deepEqual(
      reasons({ allowedBases: ["base/*"] }, facts({ base: { digest: `sha256:${"ef".repeat(32)}` } })),
      ["allowedBases: base efefefefefef… is not a version of any gallery definition (allowed: base/*)"],
    );
    const { base: _b, ...none } = facts();
    assert.deepEqual(reasons({ allowedBases: ["base/*"] }, none), ["allowedBases: no base image recorded"]);
  });
});

describe("deniedPackages", () => {
  it("orders versions as the package's ecosystem does", () => {
    // dpkg: ~ sorts before everything, so 3.0.15-1~deb12u1 < 3.0.15-1.
    const cases: [string, string, boolean][] = [
      ["3.0.15-1~deb12u1", "<3.0.15-1", true],
      ["3.0.15-1~deb12u1", "<3.0.15-1~deb12u1", false],
      ["3.0.15-1~deb12u1", "<=3.0.15-1~deb12u1", true],
      ["3.0.14-1~deb12u2", "<3.0.15-1~deb12u1", true],
      ["1:3.0.0-1", "<3.0.15-1~deb12u1", false],
      ["3.0.9-1", ">=3.0.0, <3.0.15", true],
      ["3.0.10-1", "<3.0.9", false],
      ["3.0.15-1~deb12u1", "=3.0.15-1~deb12u1", true],
      ["3.0.15-1~deb12u1", "!=3.0.15-1~deb12u1", false],
    ];
    for (const [version, constraint, denied] of cases) {
      const image = facts({
        sbom: {
          present: true,
          formats: ["spdx"],
          packageCount: 1,
          packages: [{ name: "openssl", version, type: "deb" }],
        },
      });
      assert.deepEqual(
        reasons({ deniedPackages: [{ name: "openssl", version: constraint }] }, image),
        denied ? [`deniedPackages: denied package: openssl ${version} (denied: ${constraint})`] : [],
        `${version} ${constraint}`,
      );
    }
  });
  it("apk ordering, type filters and bare names", () => {
    assert.deepEqual(
      reasons({ deniedPackages: [{ name: "musl", version: "<1.2.4-r3", type: "apk" }] }, facts()),
      ["deniedPackages: denied package: musl 1.2.4-r2 (denied: <1.2.4-r3)"],
    );
    assert.deepEqual(reasons({ deniedPackages: [{ name: "musl", type: "deb" }] }, facts()), []);
    assert.deepEqual(reasons({ deniedPackages: ["musl", "curl"] }, facts()), [
      "deniedPackages: denied package: musl 1.2.4-r2 (denied)",
    ]);
  });
  it("fails closed when versions cannot be ordered or there is no SBOM", () => {
    const image = facts({
      sbom: {
        present: true,
        formats: ["cyclonedx"],
        packageCount: 1,
        packages: [{ name: "left-pad", version: "1.0.0", type: "npm" }],
      },
    });
    assert.deepEqual(reasons({ deniedPackages: [{ name: "left-pad", version: "<1.3.0" }] }, image), [
      "deniedPackages: denied package: left-pad 1.0.0 (denied: <1.3.0; cannot order npm versions)",
    ]);
    assert.deepEqual(
      reasons(
        { deniedPackages: ["xz-utils"] },
        facts({ sbom: { present: false, formats: [], packageCount: 0, packages: [] } }),
      ),
      ["deniedPackages: no SBOM to check packages against"],
    );
  });
});

describe("lifecycle", () => {
  const g = facts().gallery;
  assert.ok(g !== undefined);
  it("denies revoked, end-of-life and deleted by default; deprecated when asked", () => {
    assert.deepEqual(reasons({ lifecycle: true }, facts()), []);
    assert.deepEqual(reasons({ lifecycle: true }, facts({ gallery: { ...g, state: "deprecated" } })), []);
    assert.deepEqual(
      reasons({ lifecycle: { deny: ["deprecated"] } }, facts({ gallery: { ...g, state: "deprecated" } })),
      ["lifecycle: prod/web:1.4.2 is deprecated"],
    );
    assert.deepEqual(reasons({ lifecycle: true }, facts({ gallery: { ...g, state: "revoked" } })), [
      "lifecycle: prod/web:1.4.2 is revoked",
    ]);
    assert.deepEqual(
      reasons({ lifecycle: true }, facts({ gallery: { ...g, pastEol: true, eol: "2026-02-01" } })),
      ["lifecycle: prod/web:1.4.2 is end-of-life since 2026-02-01"],
    );
    assert.deepEqual(
      reasons({ lifecycle: { deny: ["revoked"] } }, facts({ gallery: { ...g, state: "deleted" } })),
      [],
    );
  });
  it("passes images outside every gallery", () => {
    const { gallery: _g, ...plain } = facts();
    assert.deepEqual(reasons({ lifecycle: true }, plain), []);
  });
});
