// Both writers against their published JSON schemas (SPDX 2.3 from spdx/spdx-spec, CycloneDX 1.6
// as the CycloneDX library ships it), the same bytes for the same input, and hostile strings
// carried as data.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  schemaErrors as errors,
  validateCycloneDx as validateCdx,
  validateSpdx,
} from "../../test/helpers/sbom-schemas.ts";
import { cyclonedxDocument, cyclonedxJson } from "./cyclonedx.ts";
import type { Inventory } from "./model.ts";
import { spdxDocument } from "./spdx.ts";

const SUBJECT = {
  name: "registry.example/prod/web:1.2.0",
  digest: `sha256:${"ab".repeat(32)}`,
  created: "2024-01-01T00:00:00.123Z",
  tool: "strata-0.1.0",
};

const INVENTORY: Inventory = {
  os: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" },
  packages: [
    {
      type: "deb",
      name: "libssl3",
      version: "3.0.15-1~deb12u1",
      arch: "amd64",
      source: { name: "openssl", version: "3.0.15-1~deb12u1" },
      purl: "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12",
      licenses: ["Apache-2.0"],
      installedSize: 6_144_000,
      maintainer: "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
      description: "Secure Sockets Layer toolkit - shared libraries",
    },
    {
      type: "deb",
      name: "perl-base",
      version: "5.36.0-7+deb12u1",
      arch: "amd64",
      purl: "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64&distro=debian-12",
      licenses: ["GPL-1.0-or-later OR Artistic-1.0", "GPL-3+ with Bison exception", "public-domain", "Zlib"],
    },
    {
      type: "deb",
      name: "mixed",
      version: "1",
      purl: "pkg:deb/debian/mixed@1",
      licenses: ["MIT", "GPL-2.0-only OR BSD-3-Clause"],
    },
    {
      type: "apk",
      name: "x<script>alert(1)</script>",
      version: '1.0"quoted"',
      purl: "pkg:apk/alpine/x%3Cscript%3Ealert%281%29%3C%2Fscript%3E@1.0%22quoted%22",
      licenses: ["GPL2+"],
      maintainer: "Mallory </script><!--",
      description: "ends with a backslash \\",
    },
  ],
  warnings: ["/var/lib/rpm/Packages: an rpm BerkeleyDB database, which is not read"],
};

test("SPDX 2.3: valid against the schema, with the OS, packages, purls and relationships", () => {
  const doc = spdxDocument(INVENTORY, SUBJECT);
  assert.ok(validateSpdx(doc), errors(validateSpdx));
  assert.equal(doc.documentNamespace, `https://strata.dev/spdx/${"ab".repeat(32)}`);
  assert.deepEqual(doc.creationInfo, {
    created: "2024-01-01T00:00:00Z",
    creators: ["Tool: strata-0.1.0"],
    comment: INVENTORY.warnings?.[0],
  });
  const packages = doc.packages as Record<string, unknown>[];
  assert.equal(packages.length, 2 + INVENTORY.packages.length);
  assert.equal(packages[1]?.primaryPackagePurpose, "OPERATING_SYSTEM");
  const libssl = packages.find((p) => p.name === "libssl3");
  assert.equal(libssl?.licenseDeclared, "Apache-2.0");
  assert.equal(
    libssl?.supplier,
    "Organization: Debian OpenSSL Team (pkg-openssl-devel@alioth-lists.debian.net)",
  );
  assert.deepEqual(libssl?.externalRefs, [
    {
      referenceCategory: "PACKAGE-MANAGER",
      referenceType: "purl",
      referenceLocator: INVENTORY.packages[0]?.purl,
    },
  ]);
  const perl = packages.find((p) => p.name === "perl-base");
  assert.equal(
    perl?.licenseDeclared,
    "(GPL-1.0-or-later OR Artistic-1.0) AND LicenseRef-GPL-3-with-Bison-exception AND LicenseRef-public-domain AND Zlib",
  );
  const refs = (doc.hasExtractedLicensingInfos as { licenseId: string; name: string }[]).map((i) => [
    i.licenseId,
    i.name,
  ]);
  assert.deepEqual(refs, [
    ["LicenseRef-GPL-3-with-Bison-exception", "GPL-3+ with Bison exception"],
    ["LicenseRef-GPL2", "GPL2+"],
    ["LicenseRef-public-domain", "public-domain"],
  ]);
  const relationships = doc.relationships as { relationshipType: string }[];
  assert.equal(
    relationships.filter((r) => r.relationshipType === "CONTAINS").length,
    1 + INVENTORY.packages.length,
  );
  assert.equal(relationships.filter((r) => r.relationshipType === "DESCRIBES").length, 1);
  // The markup is data: it survives a JSON round trip as the same string.
  const text = JSON.stringify(doc);
  assert.equal((JSON.parse(text) as typeof doc).packages !== undefined, true);
  assert.ok(packages.some((p) => p.name === "x<script>alert(1)</script>"));
  assert.equal(JSON.stringify(spdxDocument(INVENTORY, SUBJECT)), text, "same input, same bytes");
});

test("CycloneDX 1.6: valid against the schema, the image as metadata.component, the OS and packages", () => {
  const doc = cyclonedxDocument(INVENTORY, SUBJECT);
  assert.ok(validateCdx(doc), errors(validateCdx));
  assert.equal(doc.specVersion, "1.6");
  const metadata = doc.metadata as {
    timestamp: string;
    component: Record<string, unknown>;
    properties: unknown[];
  };
  assert.equal(metadata.timestamp, "2024-01-01T00:00:00.000Z");
  assert.equal(metadata.component.type, "container");
  assert.equal(metadata.component.purl, `pkg:oci/web@sha256%3A${"ab".repeat(32)}`);
  assert.deepEqual(metadata.properties, [{ name: "strata:sbom:warning", value: INVENTORY.warnings?.[0] }]);
  const components = doc.components as Record<string, unknown>[];
  assert.equal(components.length, 1 + INVENTORY.packages.length);
  assert.deepEqual(
    components.filter((c) => c.type === "operating-system").map((c) => [c.name, c.version]),
    [["debian", "12"]],
  );
  const libssl = components.find((c) => c.name === "libssl3");
  assert.equal(libssl?.purl, INVENTORY.packages[0]?.purl);
  assert.equal(libssl?.["bom-ref"], INVENTORY.packages[0]?.purl);
  assert.deepEqual(libssl?.licenses, [{ license: { id: "Apache-2.0" } }]);
  assert.deepEqual(libssl?.properties, [
    { name: "strata:package:arch", value: "amd64" },
    { name: "strata:package:installed-size", value: "6144000" },
    { name: "strata:package:source", value: "openssl" },
    { name: "strata:package:source-version", value: "3.0.15-1~deb12u1" },
    { name: "strata:package:type", value: "deb" },
  ]);
  const perl = components.find((c) => c.name === "perl-base");
  // CycloneDX takes license objects or one expression: beside names, an expression is a name.
  assert.deepEqual(perl?.licenses, [
    { license: { name: "GPL-1.0-or-later OR Artistic-1.0" } },
    { license: { name: "GPL-3+ with Bison exception" } },
    { license: { name: "public-domain" } },
    { license: { id: "Zlib" } },
  ]);
  const mixed = components.find((c) => c.name === "mixed");
  assert.deepEqual(mixed?.licenses, [{ expression: "(MIT) AND (GPL-2.0-only OR BSD-3-Clause)" }]);
  assert.equal(
    cyclonedxJson(INVENTORY, SUBJECT),
    cyclonedxJson(INVENTORY, SUBJECT),
    "same input, same bytes",
  );
  assert.match(
    String(doc.serialNumber),
    /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});

test("both writers: an image without OS or packages is still a valid document", () => {
  const empty: Inventory = { packages: [] };
  const subject = { name: "scratch", digest: `sha256:${"0".repeat(64)}` };
  assert.ok(validateSpdx(spdxDocument(empty, subject)), errors(validateSpdx));
  assert.ok(validateCdx(cyclonedxDocument(empty, subject)), errors(validateCdx));
  assert.equal(
    (spdxDocument(empty, subject).creationInfo as { created: string }).created,
    "1970-01-01T00:00:00Z",
  );
});

test("the schema checks catch documents that break them", () => {
  const spdx = spdxDocument(INVENTORY, SUBJECT);
  const packages = spdx.packages as Record<string, unknown>[];
  const { downloadLocation: _, ...withoutLocation } = packages[0] ?? {};
  assert.equal(validateSpdx({ ...spdx, packages: [withoutLocation] }), false);
  assert.equal(
    validateSpdx({ ...spdx, packages: [{ ...packages[0], primaryPackagePurpose: "OPERATING-SYSTEM" }] }),
    false,
  );
  const cdx = cyclonedxDocument(INVENTORY, SUBJECT);
  const components = cdx.components as Record<string, unknown>[];
  assert.equal(
    validateCdx({
      ...cdx,
      components: [{ ...components[0], licenses: [{ license: { id: "Not-A-License" } }] }],
    }),
    false,
  );
});
