// The Debian cataloger over a root built in the test: installed packages from the status file
// and status.d, sources, sizes, DEP-5 licenses, hostile strings, malformed and oversized files.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { catalogDirectory } from "./catalog.ts";
import { dep5Licenses, DEFAULT_LIMITS } from "./dpkg.ts";
import { SbomError } from "./errors.ts";
import { dep5ToSpdx } from "./licenses.ts";

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function root(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sbom-dpkg-"));
  roots.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const OS =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n';
const STATUS = `Package: openssl
Status: install ok installed
Priority: optional
Installed-Size: 2299
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Version: 3.0.15-1~deb12u1
Description: Secure Sockets Layer toolkit - cryptographic utility
 This package is part of the OpenSSL project's implementation.
 .
 More text.

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.15-1~deb12u1)
Version: 3.0.15-1~deb12u1
Installed-Size: 6000

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u9
`;
const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: OpenSSL

Files: *
Copyright: 1998-2024 The OpenSSL Project
License: Apache-2.0

Files: debian/*
Copyright: Someone
License: GPL-2+ or Artistic-1.0

Files: odd/*
Copyright: Someone
License: public-domain

License: Apache-2.0
 The text of the license.
`;

test("dpkg: installed packages with versions, arches, sources, sizes, purls and licenses", async () => {
  const dir = await root({
    "etc/os-release": OS,
    "var/lib/dpkg/status": STATUS,
    "usr/share/doc/openssl/copyright": COPYRIGHT,
    "usr/share/doc/libc6/copyright": "This is free text, not DEP-5.\nLicense: GPL\n",
  });
  const inventory = await catalogDirectory(dir);
  assert.deepEqual(inventory.os, {
    id: "debian",
    versionId: "12",
    prettyName: "Debian GNU/Linux 12 (bookworm)",
    versionCodename: "bookworm",
  });
  assert.deepEqual(
    inventory.packages.map((p) => p.name),
    ["libc6", "libssl3", "openssl"],
  );
  const openssl = inventory.packages.find((p) => p.name === "openssl");
  assert.deepEqual(openssl, {
    type: "deb",
    name: "openssl",
    version: "3.0.15-1~deb12u1",
    arch: "amd64",
    purl: "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=amd64&distro=debian-12",
    licenses: ["Apache-2.0", "GPL-2.0-or-later OR Artistic-1.0", "public-domain"],
    installedSize: 2299 * 1024,
    maintainer: "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
    description: "Secure Sockets Layer toolkit - cryptographic utility",
  });
  const libssl = inventory.packages.find((p) => p.name === "libssl3");
  assert.deepEqual(libssl?.source, { name: "openssl", version: "3.0.15-1~deb12u1" });
  const libc = inventory.packages.find((p) => p.name === "libc6");
  assert.deepEqual(libc?.source, { name: "glibc" });
  assert.equal(libc?.purl, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12");
  assert.deepEqual(libc?.licenses, [], "a copyright file that is not DEP-5 declares nothing");
});

test("dpkg: status.d (distroless) files count as installed; md5sums are skipped", async () => {
  const dir = await root({
    "usr/lib/os-release": 'ID=debian\nVERSION_ID="12"\n',
    "var/lib/dpkg/status.d/base-files": "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
    "var/lib/dpkg/status.d/tzdata": "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
    "var/lib/dpkg/status.d/tzdata.md5sums": "d41d8cd98f00b204e9800998ecf8427e  usr/share/x\n",
  });
  const inventory = await catalogDirectory(dir);
  assert.equal(inventory.os?.id, "debian");
  assert.deepEqual(
    inventory.packages.map((p) => p.purl),
    [
      "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12",
      "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
    ],
  );
});

test("dpkg: hostile strings are cleaned; a name that is not a Debian name is refused", async () => {
  const hostile = `Package: evil
Status: install ok installed
Version: 1.0\u0007
Architecture: amd64
Maintainer: <script>alert(1)</script> \u001b[31mred\u001b[0m \u202eevil
Description: "quoted" & <b>bold</b>\u0000 text
`;
  const inventory = await catalogDirectory(await root({ "var/lib/dpkg/status": hostile }));
  const evil = inventory.packages[0];
  assert.equal(evil?.version, "1.0");
  assert.equal(evil?.maintainer, "<script>alert(1)</script> [31mred[0m evil");
  assert.equal(evil?.description, '"quoted" & <b>bold</b> text');
  assert.equal(inventory.os, undefined);
  assert.equal(evil?.purl, "pkg:deb/debian/evil@1.0?arch=amd64");

  const badName = "Package: <img src=x>\nStatus: install ok installed\nVersion: 1\n";
  await assert.rejects(catalogDirectory(await root({ "var/lib/dpkg/status": badName })), (e: unknown) => {
    assert.ok(e instanceof SbomError);
    assert.equal(
      e.message,
      '/var/lib/dpkg/status:1: package name "<img src=x>" is not a Debian package name',
    );
    return true;
  });
});

test("dpkg: malformed and oversized databases are errors naming the file and line", async () => {
  const cases: [string, RegExp][] = [
    [
      "Package: a\nVersion: 1\nStatus: install ok installed\nthis line has no colon\n",
      /^SbomError: \/var\/lib\/dpkg\/status:4: expected "Field: value"/,
    ],
    [" continuation first\n", /^SbomError: \/var\/lib\/dpkg\/status:1: continuation line outside a field/],
    [
      "Package: a\nStatus: install ok installed\n",
      /^SbomError: \/var\/lib\/dpkg\/status:1: package "a" has no Version/,
    ],
    [
      "Status: install ok installed\nVersion: 1\n",
      /^SbomError: \/var\/lib\/dpkg\/status:1: paragraph without a Package field/,
    ],
  ];
  for (const [text, error] of cases)
    await assert.rejects(catalogDirectory(await root({ "var/lib/dpkg/status": text })), error);
  const big = await root({ "var/lib/dpkg/status": "Package: a\n".padEnd(4096, "x") });
  await assert.rejects(
    catalogDirectory(big, { maxDatabaseBytes: 1024 }),
    /^SbomError: \/var\/lib\/dpkg\/status: is larger than 1024 bytes \(4096\)/,
  );
  const many = Array.from(
    { length: 5 },
    (_, i) => `Package: p${i}\nStatus: install ok installed\nVersion: 1\n`,
  ).join("\n");
  await assert.rejects(
    catalogDirectory(await root({ "var/lib/dpkg/status": many }), { maxPackages: 3 }),
    /more than 3/,
  );
  assert.equal(DEFAULT_LIMITS.maxPackages, 100_000);
});

test("DEP-5 license names map to SPDX only where they map cleanly", () => {
  assert.equal(dep5ToSpdx("GPL-2+"), "GPL-2.0-or-later");
  assert.equal(dep5ToSpdx("GPL-2"), "GPL-2.0-only");
  assert.equal(dep5ToSpdx("LGPL-2.1+"), "LGPL-2.1-or-later");
  assert.equal(dep5ToSpdx("Expat"), "MIT");
  assert.equal(dep5ToSpdx("BSD-3-clause"), "BSD-3-Clause");
  assert.equal(
    dep5ToSpdx("GPL-2+ or Artistic-2.0, and BSD-3-clause"),
    "GPL-2.0-or-later OR Artistic-2.0 AND BSD-3-Clause",
  );
  assert.equal(dep5ToSpdx("GPL-3+ with Bison exception"), "GPL-3+ with Bison exception");
  assert.equal(dep5ToSpdx("public-domain"), "public-domain");
  assert.equal(dep5ToSpdx("GPL-2+ or"), "GPL-2+ or");
  assert.deepEqual(
    dep5Licenses(
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Zlib\n",
      "x",
    ),
    ["Zlib"],
  );
});
