// The RPM cataloger against a database rpm itself wrote: Debian's rpm builds packages with
// rpmbuild and records them in an rpmdb.sqlite (`rpm --initdb`, `rpm -i --justdb`), and the
// SBOM lists what `rpm -qa` lists, with epochs, releases, arches, licenses and source packages.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { catalogDirectory } from "../../src/sbom/index.ts";
import { runOk } from "../helpers/exec.ts";

let work: string;
const root = () => join(work, "root");
const dbpath = () => join(root(), "usr/lib/sysimage/rpm");

const spec = (name: string, version: string, extra: string) => `Name: ${name}
Version: ${version}
Release: 3.fc40
Summary: A test package with <markup> & "quotes"
License: MIT AND (Apache-2.0 OR GPL-2.0-or-later)
BuildArch: noarch
${extra}

%description
A package the SBOM tests install into a database only.

%files
`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-sbom-rpm-"));
  const top = join(work, "rpmbuild");
  await mkdir(join(top, "SPECS"), { recursive: true });
  await writeFile(join(top, "SPECS/a.spec"), spec("hello-strata", "1.2+git", "Epoch: 2"));
  await writeFile(join(top, "SPECS/b.spec"), spec("other", "0.9", ""));
  for (const file of ["a.spec", "b.spec"])
    await runOk("rpmbuild", ["--define", `_topdir ${top}`, "--quiet", "-bb", join(top, "SPECS", file)]);
  // Fedora's layout: the database in /usr/lib/sysimage/rpm, /var/lib/rpm a symlink to it.
  await mkdir(dbpath(), { recursive: true });
  await mkdir(join(root(), "var/lib"), { recursive: true });
  await runOk("ln", ["-s", "../../usr/lib/sysimage/rpm", join(root(), "var/lib/rpm")]);
  await mkdir(join(root(), "etc"));
  await writeFile(join(root(), "etc/os-release"), 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n');
  await runOk("rpm", ["--dbpath", dbpath(), "--define", "_db_backend sqlite", "--initdb"]);
  const rpms = join(top, "RPMS/noarch");
  const { stdout } = await runOk("ls", [rpms]);
  const files = stdout
    .split("\n")
    .filter(Boolean)
    .map((f) => join(rpms, f));
  await runOk("rpm", [
    "--dbpath",
    dbpath(),
    "-i",
    "--justdb",
    "--nodeps",
    "--ignorearch",
    "--ignoreos",
    ...files,
  ]);
});
after(() => rm(work, { recursive: true, force: true }));

it("lists what rpm -qa lists, from the rpmdb.sqlite rpm wrote", async () => {
  const { stdout } = await runOk("rpm", [
    "--dbpath",
    dbpath(),
    "-qa",
    "--qf",
    "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM}\\n",
  ]);
  const expected = stdout.split("\n").filter(Boolean).sort();
  assert.equal(expected.length, 2);
  const inventory = await catalogDirectory(root());
  assert.deepEqual(
    inventory.packages
      .map((p) => `${p.name} ${p.version} ${p.arch ?? ""} ${p.source?.name}-${p.source?.version}.src.rpm`)
      .sort(),
    expected,
  );
  const hello = inventory.packages.find((p) => p.name === "hello-strata");
  assert.equal(
    hello?.purl,
    "pkg:rpm/fedora/hello-strata@1.2%2Bgit-3.fc40?arch=noarch&distro=fedora-40&epoch=2",
  );
  assert.deepEqual(hello?.licenses, ["MIT AND (Apache-2.0 OR GPL-2.0-or-later)"]);
  assert.equal(hello?.description, 'A test package with <markup> & "quotes"');
  assert.deepEqual(inventory.os, { id: "fedora", versionId: "40" });
});
