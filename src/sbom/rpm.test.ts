// The RPM cataloger over an rpmdb.sqlite made in the test from header blobs written here in the
// RPM header format (rpm.org "RPM file format": il, dl, 16-byte index entries, data store; types
// 4 INT32, 6 STRING, 9 I18NSTRING), malformed headers, and older databases that are not read.
// test/integration/sbom-rpm.test.ts does the same with a database written by rpm itself.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { catalogDirectory } from "./catalog.ts";
import { SbomError } from "./errors.ts";
import { parseRpmHeader, RpmTag } from "./rpm-header.ts";

type Tag = [tag: number, type: 4 | 6 | 9, value: string | number];

/** A header blob as rpm stores it in its database: il, dl, the index, then the data store. */
function headerBlob(tags: readonly Tag[]): Buffer {
  const index: Buffer[] = [];
  const store: Buffer[] = [];
  let size = 0;
  for (const [tag, type, value] of tags) {
    if (type === 4) {
      const pad = (4 - (size % 4)) % 4;
      store.push(Buffer.alloc(pad));
      size += pad;
    }
    const data =
      type === 4 ? Buffer.alloc(4) : Buffer.concat([Buffer.from(String(value), "utf8"), Buffer.from([0])]);
    if (type === 4) data.writeUInt32BE(Number(value));
    const entry = Buffer.alloc(16);
    entry.writeUInt32BE(tag, 0);
    entry.writeUInt32BE(type, 4);
    entry.writeUInt32BE(size, 8);
    entry.writeUInt32BE(1, 12);
    index.push(entry);
    store.push(data);
    size += data.length;
  }
  const head = Buffer.alloc(8);
  head.writeUInt32BE(tags.length, 0);
  head.writeUInt32BE(size, 4);
  return Buffer.concat([head, ...index, ...store]);
}

const OPENSSL: Tag[] = [
  [RpmTag.Name, 6, "openssl"],
  [RpmTag.Version, 6, "3.0.7"],
  [RpmTag.Release, 6, "27.el9"],
  [RpmTag.Epoch, 4, 1],
  [RpmTag.Summary, 9, "Utilities from the general purpose cryptography library"],
  [RpmTag.Size, 4, 1_234_567],
  [RpmTag.License, 6, "Apache-2.0"],
  [RpmTag.Arch, 6, "x86_64"],
  [RpmTag.SourceRpm, 6, "openssl-3.0.7-27.el9.src.rpm"],
  [RpmTag.Vendor, 6, "Red Hat, Inc."],
];

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function rpmRoot(blobs: readonly Buffer[], dir = "var/lib/rpm"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "sbom-rpm-"));
  roots.push(root);
  await mkdir(join(root, dir), { recursive: true });
  await mkdir(join(root, "etc"));
  await writeFile(join(root, "etc/os-release"), 'ID="rhel"\nVERSION_ID="9.4"\nID_LIKE="fedora"\n');
  const db = new Database(join(root, dir, "rpmdb.sqlite"));
  db.exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO Packages (blob) VALUES (?)");
  for (const blob of blobs) insert.run(blob);
  db.close();
  return root;
}

test("rpm: packages from rpmdb.sqlite header blobs, with epoch, release, source and license", async () => {
  const root = await rpmRoot([
    headerBlob(OPENSSL),
    headerBlob([
      [RpmTag.Name, 6, "tzdata"],
      [RpmTag.Version, 6, "2024a"],
      [RpmTag.Release, 6, "1.el9"],
      [RpmTag.Arch, 6, "noarch"],
    ]),
  ]);
  const inventory = await catalogDirectory(root);
  assert.deepEqual(inventory.os, { id: "rhel", versionId: "9.4", idLike: ["fedora"] });
  assert.deepEqual(inventory.packages[0], {
    type: "rpm",
    name: "openssl",
    version: "1:3.0.7-27.el9",
    arch: "x86_64",
    source: { name: "openssl", version: "3.0.7-27.el9" },
    purl: "pkg:rpm/rhel/openssl@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1",
    licenses: ["Apache-2.0"],
    installedSize: 1_234_567,
    maintainer: "Red Hat, Inc.",
    description: "Utilities from the general purpose cryptography library",
  });
  assert.equal(inventory.packages[1]?.purl, "pkg:rpm/rhel/tzdata@2024a-1.el9?arch=noarch&distro=rhel-9.4");
  assert.equal(inventory.warnings, undefined);
});

test("rpm: the database under /usr/lib/sysimage/rpm is found too", async () => {
  const root = await rpmRoot([headerBlob(OPENSSL)], "usr/lib/sysimage/rpm");
  assert.equal((await catalogDirectory(root)).packages.length, 1);
});

test("rpm: malformed header blobs are errors naming the database and row", async () => {
  const good = headerBlob(OPENSSL);
  const truncated = good.subarray(0, good.length - 10);
  const hugeIndex = Buffer.from(good);
  hugeIndex.writeUInt32BE(0x10000, 0);
  const badOffset = Buffer.from(good);
  badOffset.writeInt32BE(0x7fff0000, 8 + 8);
  const noNul = headerBlob([[RpmTag.Name, 6, "x"]]);
  noNul[noNul.length - 1] = 0x41;
  const cases: [Buffer, RegExp][] = [
    [truncated, /rpmdb\.sqlite \(row 1\): malformed RPM header: \d+ bytes, but its index and store need \d+/],
    [hugeIndex, /malformed RPM header: 65536 index entries \(1 to 65535\)/],
    [badOffset, /malformed RPM header: tag 1000: offset 2147418112 outside the \d+-byte store/],
    [noNul, /malformed RPM header: tag 1000: a string without its terminating NUL/],
    [Buffer.from([1, 2, 3]), /malformed RPM header: 3 bytes, shorter than its 8-byte preamble/],
    [headerBlob([[RpmTag.Version, 6, "1"]]), /RPM header without a NAME/],
  ];
  for (const [blob, error] of cases) {
    await assert.rejects(catalogDirectory(await rpmRoot([blob])), (e: unknown) => {
      assert.ok(e instanceof SbomError);
      assert.match(e.message, error);
      assert.match(e.message, /^\/var\/lib\/rpm\/rpmdb\.sqlite \(row 1\)/);
      return true;
    });
  }
  assert.throws(() => parseRpmHeader(Buffer.alloc(8), "x"), /0 index entries/);
});

test("rpm: a file that is not SQLite, or has no Packages table, is a clear error", async () => {
  const root = await mkdtemp(join(tmpdir(), "sbom-rpm-"));
  roots.push(root);
  await mkdir(join(root, "var/lib/rpm"), { recursive: true });
  await writeFile(join(root, "var/lib/rpm/rpmdb.sqlite"), "not a database");
  await assert.rejects(
    catalogDirectory(root),
    /^SbomError: \/var\/lib\/rpm\/rpmdb\.sqlite: is not an SQLite database$/,
  );
  const empty = new Database(join(root, "var/lib/rpm/rpmdb.sqlite.tmp"));
  empty.exec("CREATE TABLE Other (x)");
  empty.close();
  await rm(join(root, "var/lib/rpm/rpmdb.sqlite"));
  const { rename } = await import("node:fs/promises");
  await rename(join(root, "var/lib/rpm/rpmdb.sqlite.tmp"), join(root, "var/lib/rpm/rpmdb.sqlite"));
  await assert.rejects(
    catalogDirectory(root),
    /rpmdb\.sqlite: cannot read its Packages table: no such table: Packages/,
  );
});

test("rpm: BerkeleyDB and ndb databases are named in a warning, not read", async () => {
  const root = await mkdtemp(join(tmpdir(), "sbom-rpm-"));
  roots.push(root);
  await mkdir(join(root, "var/lib/rpm"), { recursive: true });
  await writeFile(join(root, "var/lib/rpm/Packages"), Buffer.alloc(64));
  await mkdir(join(root, "usr/lib/sysimage/rpm"), { recursive: true });
  await writeFile(join(root, "usr/lib/sysimage/rpm/Packages.db"), Buffer.from("RpmP"));
  const inventory = await catalogDirectory(root);
  assert.deepEqual(inventory.packages, []);
  assert.deepEqual(inventory.warnings, [
    "/var/lib/rpm/Packages: an rpm BerkeleyDB database, which is not read (only rpmdb.sqlite is): its packages are not listed",
    "/usr/lib/sysimage/rpm/Packages.db: an rpm ndb database, which is not read (only rpmdb.sqlite is): its packages are not listed",
  ]);
});
