// The Alpine cataloger and package URLs: fields of apk's installed database, hostile and
// malformed input, and the purl spec's percent-encoding.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseApkInstalled } from "./apk.ts";
import { packageUrl, purlEncode } from "./purl.ts";

const OS = { id: "alpine", versionId: "3.20.3" };
const INSTALLED = `C:Q1abc=
P:musl
V:1.2.5-r0
A:x86_64
S:411552
I:643072
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1712064120
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755

P:busybox
V:1.36.1-r29
A:x86_64
I:949572
T:Size optimized toolbox
L:GPL-2.0-only
o:busybox
`;

test("apk: packages with versions, arches, origins, sizes, licenses and purls", () => {
  const packages = parseApkInstalled(INSTALLED, OS, "/lib/apk/db/installed", 100);
  assert.deepEqual(packages[0], {
    type: "apk",
    name: "musl",
    version: "1.2.5-r0",
    arch: "x86_64",
    source: { name: "musl" },
    purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3",
    licenses: ["MIT"],
    installedSize: 643072,
    maintainer: "Timo Teräs <timo.teras@iki.fi>",
    description: "the musl c library (libc) implementation",
  });
  assert.equal(packages[1]?.purl, "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3");
  assert.equal(packages.length, 2);
});

test("apk: hostile fields are cleaned and encoded; malformed databases name the line", () => {
  const [p] = parseApkInstalled("P:x<y>\u0001z\nV:1.0+a b\nT:<script>\u001b[2J</script>\n", OS, "f", 10);
  assert.equal(p?.name, "x<y>z");
  assert.equal(p?.description, "<script>[2J</script>");
  assert.equal(p?.purl, "pkg:apk/alpine/x%3Cy%3Ez@1.0%2Ba%20b?distro=alpine-3.20.3");
  assert.throws(() => parseApkInstalled("P:a\nV:1\nnot a field\n", OS, "/lib/apk/db/installed", 10), {
    message: '/lib/apk/db/installed:3: expected "X:value", got "not a field"',
  });
  assert.throws(() => parseApkInstalled("P:a\nT:x\n", OS, "db", 10), {
    message: 'db:1: package "a" has no version (V:)',
  });
  assert.throws(() => parseApkInstalled("V:1\n", OS, "db", 10), {
    message: "db:1: package without a name (P:)",
  });
  assert.throws(
    () => parseApkInstalled(`P:a\nT:${"x".repeat(70_000)}\n`, OS, "db", 10),
    /db:2: line longer than 65536 bytes/,
  );
  assert.throws(() => parseApkInstalled("P:a\nV:1\n\nP:b\nV:1\n", OS, "db", 1), /db:4: more than 1 packages/);
});

test("purls percent-encode as the spec says and sort qualifiers", () => {
  assert.equal(purlEncode("3.0.15-1~deb12u1"), "3.0.15-1~deb12u1");
  assert.equal(purlEncode("1:2.36+dfsg"), "1%3A2.36%2Bdfsg");
  assert.equal(purlEncode("a b/c?d#e&f=g%"), "a%20b%2Fc%3Fd%23e%26f%3Dg%25");
  assert.equal(purlEncode("é"), "%C3%A9");
  assert.equal(
    packageUrl({
      type: "deb",
      namespace: "Debian",
      name: "LibC6",
      version: "1:2.36-9+deb12u9",
      qualifiers: { distro: "debian-12", arch: "amd64", empty: "" },
    }),
    "pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12",
  );
  assert.equal(
    packageUrl({
      type: "rpm",
      namespace: "fedora",
      name: "NetworkManager",
      version: "1.46.0-1.fc40",
      qualifiers: { epoch: "1", arch: "x86_64", distro: "fedora-40" },
    }),
    "pkg:rpm/fedora/NetworkManager@1.46.0-1.fc40?arch=x86_64&distro=fedora-40&epoch=1",
  );
  assert.equal(packageUrl({ type: "apk", name: "x" }), "pkg:apk/x");
});
