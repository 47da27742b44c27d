import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Inventory, Package } from "../sbom/index.ts";
import { DiffError } from "./errors.ts";
import { diffPackages } from "./packages.ts";
import { inventoryFromSbom } from "./sbom-reader.ts";
import { renderMarkdown, renderText } from "./render.ts";
import type { ImageDiff } from "./diff-images.ts";

function deb(name: string, version: string, arch = "amd64", source?: string): Package {
  return {
    type: "deb",
    name,
    version,
    arch,
    ...(source === undefined ? {} : { source: { name: source } }),
    purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${arch}&distro=debian-12`,
    licenses: [],
  };
}

describe("package diff", () => {
  it("sorts packages into upgraded, downgraded, added, removed and changed by dpkg's order", () => {
    const before: Inventory = {
      os: { id: "debian", versionId: "12" },
      packages: [
        deb("openssl", "3.0.14-1~deb12u1"),
        deb("libc6", "2.36-9", "amd64"),
        deb("libc6", "2.36-9", "i386"),
        deb("tzdata", "2024b-0+deb12u1", "all"),
        deb("wget", "1.21.3-1"),
        deb("pinned", "1.0-2"),
        deb("rebuilt", "1.0-1", "amd64", "old-src"),
        deb("same", "1.0"),
      ],
    };
    const after: Inventory = {
      os: { id: "debian", versionId: "13" },
      packages: [
        deb("openssl", "3.0.15-1~deb12u1"),
        deb("libc6", "2.36-9+deb12u4", "amd64"),
        deb("libc6", "2.36-9", "i386"),
        deb("tzdata", "2024b-0+deb12u1", "amd64"),
        deb("curl", "7.88.1-10"),
        deb("pinned", "1.0-1"),
        deb("rebuilt", "1.0-1", "amd64", "new-src"),
        deb("same", "1.0"),
      ],
    };
    const d = diffPackages(before, after);
    assert.deepEqual(
      d.upgraded.map((c) => `${c.name}:${c.from.arch} ${c.from.version} → ${c.to.version}`),
      ["libc6:amd64 2.36-9 → 2.36-9+deb12u4", "openssl:amd64 3.0.14-1~deb12u1 → 3.0.15-1~deb12u1"],
    );
    assert.deepEqual(
      d.downgraded.map((c) => c.name),
      ["pinned"],
    );
    assert.deepEqual(d.added, [{ type: "deb", name: "curl", version: "7.88.1-10", arch: "amd64" }]);
    assert.deepEqual(d.removed, [{ type: "deb", name: "wget", version: "1.21.3-1", arch: "amd64" }]);
    assert.deepEqual(
      d.changed.map((c) => [c.name, c.from.arch, c.to.arch, c.from.source, c.to.source]),
      [
        ["rebuilt", "amd64", "amd64", "old-src", "new-src"],
        ["tzdata", "all", "amd64", undefined, undefined],
      ],
    );
    assert.equal(d.unchanged, 2);
    assert.deepEqual(d.os, {
      from: { id: "debian", versionId: "12" },
      to: { id: "debian", versionId: "13" },
    });
  });
});

describe("SBOMs read back", () => {
  const spdx = {
    spdxVersion: "SPDX-2.3",
    packages: [
      { name: "debian", versionInfo: "12", primaryPackagePurpose: "OPERATING-SYSTEM" },
      {
        name: "openssl",
        versionInfo: "3.0.15-1~deb12u1",
        licenseDeclared: "Apache-2.0",
        externalRefs: [
          {
            referenceCategory: "PACKAGE-MANAGER",
            referenceType: "purl",
            referenceLocator:
              "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12",
          },
        ],
      },
      { name: "no-purl", versionInfo: "1" },
    ],
  };
  const cyclonedx = {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    components: [
      { type: "operating-system", name: "fedora", version: "40" },
      {
        type: "library",
        name: "curl",
        purl: "pkg:rpm/fedora/curl@8.6.0-1.fc40?arch=x86_64&epoch=1&distro=fedora-40",
        licenses: [{ license: { id: "curl" } }],
      },
      { type: "library", name: "musl", purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64" },
      { type: "library", name: "lodash", purl: "pkg:npm/lodash@4.17.21" },
    ],
  };
  const statement = (predicateType: string, predicate: unknown) =>
    Buffer.from(
      JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [], predicateType, predicate }),
    );

  it("reads SPDX 2.3 in an in-toto statement, packages from their purls", () => {
    const inv = inventoryFromSbom(statement("https://spdx.dev/Document/v2.3", spdx));
    assert.deepEqual(inv.os, { id: "debian", versionId: "12" });
    assert.deepEqual(inv.packages, [
      {
        type: "deb",
        name: "openssl",
        version: "3.0.15-1~deb12u1",
        arch: "amd64",
        source: { name: "openssl" },
        purl: "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12",
        licenses: ["Apache-2.0"],
      },
    ]);
  });

  it("reads CycloneDX, in a DSSE envelope too, with rpm epochs and apk packages", () => {
    const envelope = Buffer.from(
      JSON.stringify({
        payloadType: "application/vnd.in-toto+json",
        payload: statement("https://cyclonedx.org/bom/v1.6", cyclonedx).toString("base64"),
        signatures: [],
      }),
    );
    for (const bytes of [Buffer.from(JSON.stringify(cyclonedx)), envelope]) {
      const inv = inventoryFromSbom(bytes);
      assert.deepEqual(inv.os, { id: "fedora", versionId: "40" });
      assert.deepEqual(
        inv.packages.map((p) => [p.type, p.name, p.version, p.arch, p.licenses]),
        [
          ["apk", "musl", "1.2.5-r0", "x86_64", []],
          ["rpm", "curl", "1:8.6.0-1.fc40", "x86_64", ["curl"]],
        ],
      );
    }
  });

  it("refuses what is not an SBOM with a clear error", () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from("not json"), /Cannot read the SBOM: it is not JSON/],
      [Buffer.from("[]"), /it is not a JSON object/],
      [
        statement("https://slsa.dev/provenance/v1", {}),
        /predicateType "https:\/\/slsa.dev\/provenance\/v1" is not SPDX or CycloneDX/,
      ],
      [Buffer.from(JSON.stringify({ hello: 1 })), /neither SPDX \(spdxVersion\) nor CycloneDX/],
      [Buffer.from(JSON.stringify({ spdxVersion: "SPDX-2.3", packages: {} })), /SPDX packages is not a list/],
    ];
    for (const [bytes, message] of cases)
      assert.throws(
        () => inventoryFromSbom(bytes),
        (e: unknown) => e instanceof DiffError && e.code === "BAD_SBOM" && message.test(e.message),
      );
  });
});

describe("rendering", () => {
  it("escapes control characters and markup that came from an image", () => {
    const hostile = "evil\u001b[31m<script>|*x*";
    const diff: ImageDiff = {
      schemaVersion: 1,
      before: { name: "a", digest: "sha256:" + "1".repeat(64), layers: 1 },
      after: { name: "b", digest: "sha256:" + "2".repeat(64), layers: 1 },
      sameImage: false,
      packages: {
        available: true,
        added: [{ type: "deb", name: hostile, version: "1\n2" }],
        removed: [],
        upgraded: [],
        downgraded: [],
        changed: [],
        unchanged: 0,
      },
    };
    const text = renderText(diff);
    assert.ok(!text.includes("\u001b"));
    assert.match(text, /\+ evil\\x1b\[31m<script>\|\*x\* 1\\x0a2/);
    const markdown = renderMarkdown(diff);
    assert.ok(!markdown.includes("<script>"));
    // Markdown shows "evil\x1b[31m<script>|*x*" as text: backslash, bracket, bar and stars quoted.
    assert.match(markdown, /evil\\\\x1b\\\[31m&lt;script&gt;\\\|\\\*x\\\*/);
  });
});
