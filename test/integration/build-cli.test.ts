// `strata build` from the command line: a build into an OCI layout that skopeo reads, the same
// digest on a second run, progress on stderr, a JSON summary, and errors with exit codes.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { runOk } from "../helpers/exec.ts";

let work: string;

const strata = (args: readonly string[], env: Record<string, string> = {}) => runStrata(args, env);

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-cli-"));
  await mkdir(join(work, "ctx"));
  await buildBusyboxBase(join(work, "ctx/base"));
  await writeFile(join(work, "ctx/hello.txt"), "hello\n");
  await writeFile(
    join(work, "ctx/Containerfile"),
    'FROM oci-layout:base:busybox\nARG FLAVOUR=plain\nCOPY hello.txt /srv/\nRUN echo "$FLAVOUR" > /srv/flavour\nCMD ["cat", "/srv/hello.txt"]\n',
  );
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("strata build", () => {
  it("writes an OCI layout skopeo reads, showing progress", async () => {
    const result = await strata(["build", "-t", `oci-layout:${join(work, "out")}:v1`, join(work, "ctx")]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /FROM oci-layout:base:busybox[\s\S]*COPY hello\.txt \/srv\/: \d+ bytes[\s\S]*RUN echo "\$FLAVOUR" > \/srv\/flavour/,
    );
    assert.match(result.stdout, /^Built sha256:[0-9a-f]{64} \(3 layers, .*\n {2}oci-layout:.*out:v1\n$/);
    const inspected = JSON.parse(
      (await runOk("skopeo", ["inspect", `oci:${join(work, "out")}:v1`])).stdout,
    ) as { Layers: string[]; Created: string };
    assert.equal(inspected.Layers.length, 3);
    assert.equal(inspected.Created, "1970-01-01T00:00:00Z");
  });

  it("prints only the digest with -q, and takes this machine's --platform and --format oci", async () => {
    const hostArch = process.arch === "x64" ? "amd64" : process.arch;
    const result = await strata([
      "build",
      "-q",
      "--platform",
      `linux/${hostArch}`,
      "--format",
      "oci",
      "-t",
      `oci-layout:${join(work, "quiet")}:q`,
      join(work, "ctx"),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const index = JSON.parse(await readFile(join(work, "quiet/index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    assert.equal(result.stdout, `${index.manifests[0]?.digest}\n`);
  });

  it("records SLSA provenance beside the image as a referrer", async () => {
    const result = await strata([
      "build",
      "--json",
      "--build-arg",
      "FLAVOUR=mild",
      "-t",
      `oci-layout:${join(work, "prov")}:p1`,
      join(work, "ctx"),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { digest: string; provenance: string };
    const index = JSON.parse(await readFile(join(work, "prov/index.json"), "utf8")) as {
      manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[];
    };
    const referrer = index.manifests.find((m) => m.artifactType === "application/vnd.in-toto+json");
    assert.equal(referrer?.digest, summary.provenance);
    assert.equal(referrer?.annotations?.["dev.strata.subject"], summary.digest);
    const blob = (d: string) => readFile(join(work, "prov/blobs/sha256", d.slice(7)), "utf8");
    const manifest = JSON.parse(await blob(summary.provenance)) as {
      subject: { digest: string };
      layers: { digest: string }[];
    };
    assert.equal(manifest.subject.digest, summary.digest);
    const statement = JSON.parse(await blob(manifest.layers[0]?.digest ?? "")) as {
      _type: string;
      predicateType: string;
      subject: { digest: { sha256: string } }[];
      predicate: {
        buildDefinition: {
          externalParameters: { buildArgs: Record<string, string> };
          resolvedDependencies: { uri: string; digest: { sha256: string } }[];
        };
        runDetails: { builder: { id: string } };
      };
    };
    assert.equal(statement._type, "https://in-toto.io/Statement/v1");
    assert.equal(statement.predicateType, "https://slsa.dev/provenance/v1");
    assert.equal(`sha256:${statement.subject[0]?.digest.sha256}`, summary.digest);
    assert.deepEqual(statement.predicate.buildDefinition.externalParameters.buildArgs, { FLAVOUR: "mild" });
    const deps = statement.predicate.buildDefinition.resolvedDependencies.map((d) => d.uri);
    assert.deepEqual(deps, ["file:Containerfile", "oci-layout:base:busybox", "context:hello.txt"]);
    const baseIndex = JSON.parse(await readFile(join(work, "ctx/base/index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    assert.equal(
      `sha256:${statement.predicate.buildDefinition.resolvedDependencies[1]?.digest.sha256}`,
      baseIndex.manifests[0]?.digest,
    );
    assert.match(statement.predicate.runDetails.builder.id, /^https:\/\/strata\.dev\/builder\/strata@/);
    // The layout still reads by tag, with the referrer beside it.
    assert.equal(
      JSON.parse((await runOk("skopeo", ["inspect", `oci:${join(work, "prov")}:p1`])).stdout).Digest,
      summary.digest,
    );
  });

  it("prints a JSON summary, the same digest again, and another one for another build arg", async () => {
    const run = async (args: string[]) => {
      const result = await strata(
        ["build", "--json", ...args, "-t", `oci-layout:${join(work, "json")}:x`, join(work, "ctx")],
        { SOURCE_DATE_EPOCH: "1700000000" },
      );
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { digest: string; layers: { createdBy: string }[] };
    };
    const first = await run([]);
    const second = await run([]);
    assert.equal(first.digest, second.digest);
    assert.match(first.layers[2]?.createdBy ?? "", /^RUN echo/);
    assert.notEqual((await run(["--build-arg", "FLAVOUR=spicy"])).digest, first.digest);
  });

  it("refuses bad input with exit code 2, and a bad Containerfile with its line", async () => {
    const badTag = await strata(["build", "-t", "registry.example/App::1", join(work, "ctx")]);
    assert.equal(badTag.code, 2);
    assert.match(badTag.stderr, /Invalid --tag "registry\.example\/App::1": /);
    const badLayout = await strata(["build", "-t", "oci-layout:nowhere", join(work, "ctx")]);
    assert.equal(badLayout.code, 2);
    assert.match(badLayout.stderr, /Invalid --tag "oci-layout:nowhere": expected oci-layout:PATH:TAG/);
    const noRegistry = await strata(["build", "--push", "-t", "app:1", join(work, "ctx")]);
    assert.equal(noRegistry.code, 2);
    assert.match(noRegistry.stderr, /Cannot push "app:1": it names no registry/);
    const noTag = await strata(["build", join(work, "ctx")]);
    assert.equal(noTag.code, 2);
    assert.match(noTag.stderr, /Missing -t\/--tag/);
    const noFile = await strata(["build", "-t", `oci-layout:${join(work, "x")}:t`, work]);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /No strata\.yaml, Containerfile or Dockerfile/);
    const badEpoch = await strata(["build", "-t", `oci-layout:${join(work, "x")}:t`, join(work, "ctx")], {
      SOURCE_DATE_EPOCH: "yesterday",
    });
    assert.equal(badEpoch.code, 2);
    await writeFile(join(work, "Broken"), "FROM scratch\nCOPY nothing-here /x\n");
    const broken = await strata([
      "build",
      "-f",
      join(work, "Broken"),
      "-t",
      `oci-layout:${join(work, "x")}:t`,
      join(work, "ctx"),
    ]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /Broken:2: COPY source "nothing-here" matches no file in the build context/);
  });
});
