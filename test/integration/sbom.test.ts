// SBOMs at every build, end to end: the Debian minimal image (mmdebstrap from Debian's archive)
// built with `strata build` gets SPDX 2.3 and CycloneDX 1.6 referrers whose package list is
// exactly what dpkg-query reads from its root, both valid against their schemas; `strata sbom`
// prints them from an OCI layout and from a real `strata serve`, computes one for an image
// without (saying so), and refuses malformed SBOM referrers and package databases with a clear
// error, changing nothing.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase, buildDebianBase } from "../../scripts/base-images.ts";
import { extractLayer, readImageFromLayout } from "../../src/builder/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { runOk } from "../helpers/exec.ts";
import { schemaErrors, validateCycloneDx, validateSpdx } from "../helpers/sbom-schemas.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

let work: string;
let server: RunningStrata;
/** What dpkg-query lists in the Debian image's root: "name version arch" lines, sorted. */
let dpkgPackages: string[];

const env = (data = "data") => ({
  STRATA_DATA_DIR: join(work, data),
  XDG_CACHE_HOME: join(work, "cache"),
  SOURCE_DATE_EPOCH: "1704067200",
});
const strata = (...args: string[]) => runStrata(args, env());

interface BuildSummary {
  digest: string;
  provenance: string;
  sboms: { spdx: string; cyclonedx: string; packages: number };
}
interface SpdxDoc {
  packages: {
    name: string;
    versionInfo?: string;
    primaryPackagePurpose?: string;
    externalRefs?: { referenceLocator: string }[];
  }[];
  documentNamespace: string;
}
interface CdxDoc {
  metadata: { component: { version: string } };
  components: { type: string; name: string; version?: string; purl?: string }[];
}

/** Every file under `dir` with a hash of its content: equal snapshots mean nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        out[relative(dir, path)] = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
    }
  };
  await walk(dir);
  return out;
}

/** The "name version arch" lines of the SBOM's Debian packages, sorted. */
const spdxPackages = (doc: SpdxDoc) =>
  doc.packages
    .filter((p) => p.primaryPackagePurpose === "LIBRARY")
    .map((p) => {
      const purl = p.externalRefs?.[0]?.referenceLocator ?? "";
      return `${p.name} ${p.versionInfo ?? ""} ${/[?&]arch=([^&]+)/.exec(purl)?.[1] ?? ""}`;
    })
    .sort();

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-sbom-"));
  await buildDebianBase(join(work, "debian"), "debian");
  // dpkg's own reading of the image's root, unpacked by the builder.
  const root = join(work, "root");
  await mkdir(root);
  const image = await readImageFromLayout(join(work, "debian"), "debian");
  for (const layer of image.layers) await extractLayer(layer.path, root, { chown: false });
  const listed = await runOk("dpkg-query", [
    `--admindir=${join(root, "var/lib/dpkg")}`,
    "-W",
    "-f",
    "${Package} ${Version} ${Architecture}\\n",
  ]);
  dpkgPackages = listed.stdout.split("\n").filter(Boolean).sort();
  await rm(root, { recursive: true, force: true });
  await mkdir(join(work, "ctx"));
  await writeFile(
    join(work, "ctx/Containerfile"),
    `FROM oci-layout:${join(work, "debian")}:debian\nLABEL app=sbom\n`,
  );
  server = await startStrata();
});
after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("SBOMs at every build", () => {
  let built: BuildSummary;

  it("attaches SPDX and CycloneDX referrers listing exactly dpkg-query's packages", async () => {
    const layout = join(work, "out");
    const result = await strata("build", "--json", "-t", `oci-layout:${layout}:v1`, join(work, "ctx"));
    assert.equal(result.code, 0, result.stderr);
    built = JSON.parse(result.stdout) as BuildSummary;
    assert.ok(dpkgPackages.length > 50, `a minbase root has dozens of packages, got ${dpkgPackages.length}`);
    assert.equal(built.sboms.packages, dpkgPackages.length);

    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[];
    };
    const attestations = index.manifests
      .filter((m) => m.artifactType === "application/vnd.in-toto+json")
      .map((m) => [
        m.digest,
        m.annotations?.["in-toto.io/predicate-type"],
        m.annotations?.["dev.strata.subject"],
      ])
      .sort();
    assert.deepEqual(
      attestations,
      [
        [built.provenance, "https://slsa.dev/provenance/v1", built.digest],
        [built.sboms.spdx, "https://spdx.dev/Document/v2.3", built.digest],
        [built.sboms.cyclonedx, "https://cyclonedx.org/bom/v1.6", built.digest],
      ].sort(),
    );
    const blob = (d: string) => readFile(join(layout, "blobs/sha256", d.slice(7)), "utf8");
    const manifest = JSON.parse(await blob(built.sboms.spdx)) as {
      subject: { digest: string };
      layers: { digest: string; mediaType: string }[];
    };
    assert.equal(manifest.subject.digest, built.digest);
    const statement = JSON.parse(await blob(manifest.layers[0]?.digest ?? "")) as {
      _type: string;
      predicateType: string;
      subject: { digest: { sha256: string } }[];
      predicate: SpdxDoc;
    };
    assert.equal(statement._type, "https://in-toto.io/Statement/v1");
    assert.equal(`sha256:${statement.subject[0]?.digest.sha256}`, built.digest);

    // strata sbom prints the attached documents: valid, with dpkg's packages, names, versions, arches.
    const spdx = await strata("sbom", `oci-layout:${layout}:v1`);
    assert.equal(spdx.code, 0, spdx.stderr);
    assert.equal(spdx.stderr, "", "an attached SBOM is printed, not computed");
    const spdxDoc = JSON.parse(spdx.stdout) as SpdxDoc;
    assert.deepEqual(spdxDoc, statement.predicate);
    assert.ok(validateSpdx(spdxDoc), schemaErrors(validateSpdx));
    assert.deepEqual(spdxPackages(spdxDoc), dpkgPackages);
    assert.ok(
      spdxDoc.packages.some((p) => p.primaryPackagePurpose === "OPERATING_SYSTEM" && p.name === "debian"),
    );

    const out = join(work, "bom.cdx.json");
    const cdx = await strata("sbom", "--format", "cyclonedx", "--output", out, `oci-layout:${layout}:v1`);
    assert.equal(cdx.code, 0, cdx.stderr);
    assert.equal(cdx.stdout, "");
    const cdxDoc = JSON.parse(await readFile(out, "utf8")) as CdxDoc;
    assert.ok(validateCycloneDx(cdxDoc), schemaErrors(validateCycloneDx));
    assert.equal(cdxDoc.metadata.component.version, built.digest);
    const libraries = cdxDoc.components.filter((c) => c.type === "library");
    assert.equal(libraries.length, dpkgPackages.length);
    const libc = libraries.find((c) => c.name === "libc6");
    assert.match(
      libc?.purl ?? "",
      /^pkg:deb\/debian\/libc6@2\.36-9%2Bdeb12u\d+\?arch=amd64&distro=debian-12$/,
    );

    // The same build again gives the same SBOM bytes, and no second copy in the layout.
    const again = await strata("build", "--json", "-t", `oci-layout:${layout}:v1`, join(work, "ctx"));
    assert.deepEqual((JSON.parse(again.stdout) as BuildSummary).sboms, built.sboms);
    const after = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as typeof index;
    assert.equal(after.manifests.length, index.manifests.length);
  });

  it("pushes both SBOMs to a real strata serve, where strata sbom reads them", async () => {
    const ref = `${server.host}/team/debian:v1`;
    const pushed = await strata("build", "--push", "--json", "-t", ref, join(work, "ctx"));
    assert.equal(pushed.code, 0, pushed.stderr);
    const summary = JSON.parse(pushed.stdout) as BuildSummary;
    // The documents name the image as it was tagged, so their bytes differ from the layout's.
    assert.equal(summary.digest, built.digest);
    assert.equal(summary.sboms.packages, dpkgPackages.length);
    const referrers = (await (
      await fetch(`${server.url}/v2/team/debian/referrers/${summary.digest}`)
    ).json()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(
      referrers.manifests.map((m) => m.digest).sort(),
      [summary.provenance, summary.sboms.spdx, summary.sboms.cyclonedx].sort(),
    );
    // A fresh data folder: the name is not in a local store, so it is read from the server.
    const read = await runStrata(["sbom", "--format", "cyclonedx", ref], env("fresh"));
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stderr, "");
    const doc = JSON.parse(read.stdout) as CdxDoc;
    assert.ok(validateCycloneDx(doc), schemaErrors(validateCycloneDx));
    assert.equal(doc.components.filter((c) => c.type === "library").length, dpkgPackages.length);
  });

  it("computes the SBOM of an image that has none, and says so", async () => {
    const ref = `${server.host}/team/base:v1`;
    const copied = await strata("copy", `oci-layout:${join(work, "debian")}:debian`, ref);
    assert.equal(copied.code, 0, copied.stderr);
    const read = await runStrata(["sbom", ref], env("fresh2"));
    assert.equal(read.code, 0, read.stderr);
    assert.match(
      read.stderr,
      /^No spdx SBOM is attached to .*team\/base:v1: computing it from the image's layers\n$/,
    );
    const doc = JSON.parse(read.stdout) as SpdxDoc;
    assert.ok(validateSpdx(doc), schemaErrors(validateSpdx));
    assert.deepEqual(spdxPackages(doc), dpkgPackages);
  });
});

describe("bad input", () => {
  it("a malformed package database stops the build with the file and line, writing nothing", async () => {
    await buildBusyboxBase(join(work, "busybox"));
    const ctx = join(work, "bad-ctx");
    await mkdir(ctx);
    await writeFile(
      join(ctx, "status"),
      "Package: good\nStatus: install ok installed\nVersion: 1\nno colon here\n",
    );
    await writeFile(
      join(ctx, "Containerfile"),
      `FROM oci-layout:${join(work, "busybox")}:busybox\nCOPY status /var/lib/dpkg/status\n`,
    );
    const layout = join(work, "bad-out");
    const result = await strata("build", "-t", `oci-layout:${layout}:v1`, ctx);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\/var\/lib\/dpkg\/status:4: expected "Field: value", got "no colon here"/);
    await assert.rejects(readdir(layout), { code: "ENOENT" });
  });

  it("strata sbom refuses a referrer that claims an SBOM and holds something else, changing nothing", async () => {
    const layout = join(work, "hostile");
    await runOk("cp", ["-r", join(work, "out"), layout]);
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[];
    };
    const image = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === "v1");
    const spdx = index.manifests.find(
      (m) => m.annotations?.["in-toto.io/predicate-type"] === "https://spdx.dev/Document/v2.3",
    );
    assert.ok(image !== undefined && spdx !== undefined);
    // Its statement blob replaced in place (same size, not JSON), as a tampered copy would be.
    const manifest = JSON.parse(
      await readFile(join(layout, "blobs/sha256", spdx.digest.slice(7)), "utf8"),
    ) as {
      layers: { digest: string }[];
    };
    const statementPath = join(layout, "blobs/sha256", manifest.layers[0]?.digest.slice(7) ?? "");
    const size = (await readFile(statementPath)).length;
    await writeFile(statementPath, `<${"x".repeat(size - 2)}>`);
    const before = await snapshot(layout);
    const result = await strata("sbom", `oci-layout:${layout}:v1`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`${spdx.digest}: its statement does not match its descriptor`));
    assert.equal(result.stdout, "");
    assert.deepEqual(await snapshot(layout), before);
  });
});
