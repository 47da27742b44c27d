// The supply chain end to end with the real CLI: `strata build --push --sign` and `--publish
// --sign` sign the image, its provenance and its SBOMs; the gallery version carries them; `strata
// copy` to CNCF Distribution (referrers through the tag fallback) and to an OCI layout carries
// every signature, SBOM and provenance, and the signatures still verify there; `strata sbom`
// reads the SBOM back at the destination; `--sign` without a push, or with an expired key, is
// refused before anything is built or pushed.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let work: string;
let server: InProcess;
let distribution: RunningDistribution;
let host: string;
let env: Record<string, string>;
let digest: string;

const strata = (args: readonly string[]) => runStrata(args, env);

async function ok(args: readonly string[]) {
  const result = await strata(args);
  assert.equal(result.code, 0, `strata ${args.join(" ")}: ${result.stderr}`);
  return result;
}

async function referrerTypes(base: string, repository: string, subject: string): Promise<string[]> {
  const response = await fetch(`${base}/v2/${repository}/referrers/${subject}`);
  if (response.status === 404) {
    // Distribution 2.8: the fallback tag.
    const tag = await fetch(`${base}/v2/${repository}/manifests/${subject.replace(":", "-")}`, {
      headers: { accept: "application/vnd.oci.image.index.v1+json" },
    });
    assert.equal(tag.status, 200);
    const index = (await tag.json()) as { manifests: { artifactType?: string }[] };
    return index.manifests.map((m) => m.artifactType ?? "").sort();
  }
  const index = (await response.json()) as { manifests: { artifactType?: string }[] };
  return index.manifests.map((m) => m.artifactType ?? "").sort();
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-supply-chain-"));
  await buildBusyboxBase(join(work, "base"));
  server = await startInProcess({ listen: true });
  distribution = await startDistribution();
  host = new URL(server.url).host;
  env = {
    HOME: join(work, "home"),
    STRATA_SERVER: server.url,
    STRATA_CONFIG_DIR: join(work, "config"),
    STRATA_KEY_PASSWORD: "release-pass",
  };
  await ok(["gallery", "create", "prod"]);
  await ok(["image", "define", "prod/hello", "--kind", "container"]);
  await ok(["key", "generate", "release"]);
  await mkdir(join(work, "ctx"), { recursive: true });
  await writeFile(
    join(work, "ctx", "Containerfile"),
    `FROM oci-layout:${join(work, "base")}:busybox\nRUN echo hello > /hello\n`,
  );
  await writeFile(join(work, "release.pub"), (await ok(["key", "public", "release"])).stdout);
});

after(async () => {
  await server?.stop();
  await distribution?.stop();
  await rm(work, { recursive: true, force: true });
});

const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";
const IN_TOTO = "application/vnd.in-toto+json";

describe("signatures, SBOMs and provenance along the release path", () => {
  it("refuses --sign without a push, and with an expired key, before building", async () => {
    const none = await strata(["build", join(work, "ctx"), "-t", "local/hello:v0", "--sign", "release"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--sign signs what is pushed: give --push or --publish/);
    await ok(["key", "generate", "old"]);
    await ok(["key", "expire", "old", "2020-01-01"]);
    const expired = await strata([
      "build",
      join(work, "ctx"),
      "-t",
      `${host}/builds/hello:old`,
      "--push",
      "--sign",
      "old",
    ]);
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, /expired|not-after/i);
    const head = await fetch(`${server.url}/v2/builds/hello/manifests/old`, { method: "HEAD" });
    assert.equal(head.status, 404);
  });

  it("signs the image, its provenance and its SBOMs on build --push --sign", async () => {
    const built = await ok([
      "build",
      join(work, "ctx"),
      "-t",
      `${host}/builds/hello:v1`,
      "--push",
      "--sign",
      "release",
      "--json",
    ]);
    digest = (JSON.parse(built.stdout) as { digest: string }).digest;
    assert.deepEqual(await referrerTypes(server.url, "builds/hello", digest), [
      BUNDLE,
      IN_TOTO,
      IN_TOTO,
      IN_TOTO,
    ]);
    const verified = await ok([
      "verify",
      `${host}/builds/hello@${digest}`,
      "--key",
      join(work, "release.pub"),
    ]);
    assert.match(verified.stdout, /^Verified /m);
    // Each attestation is signed too: verify one SBOM referrer's own signature.
    const response = await fetch(
      `${server.url}/v2/builds/hello/referrers/${digest}?artifactType=${encodeURIComponent(IN_TOTO)}`,
    );
    const attestations = ((await response.json()) as { manifests: { digest: string }[] }).manifests;
    for (const attestation of attestations) {
      const checked = await strata([
        "verify",
        `${host}/builds/hello@${attestation.digest}`,
        "--key",
        join(work, "release.pub"),
      ]);
      assert.equal(checked.code, 0, checked.stderr);
    }
  });

  it("publishes with --publish --sign, and the gallery version carries the signature and SBOMs", async () => {
    await ok(["build", join(work, "ctx"), "--publish", "prod/hello@1.0.0", "--sign", "release"]);
    const version = JSON.parse((await ok(["version", "show", "prod/hello:1.0.0", "--json"])).stdout) as {
      digest: string;
    };
    const verified = await ok([
      "verify",
      `${host}/prod/hello@${version.digest}`,
      "--key",
      join(work, "release.pub"),
    ]);
    assert.match(verified.stdout, /^Verified /m);
    const sbom = await ok(["sbom", `${host}/prod/hello@${version.digest}`, "--format", "spdx"]);
    assert.equal((JSON.parse(sbom.stdout) as { spdxVersion: string }).spdxVersion, "SPDX-2.3");
  });

  it("copies signatures, SBOMs and provenance to Distribution and to a layout, where they still verify", async () => {
    const source = `${host}/builds/hello@${digest}`;
    await ok(["copy", source, `${distribution.host}/peer/hello:v1`]);
    assert.deepEqual(await referrerTypes(distribution.url, "peer/hello", digest), [
      BUNDLE,
      IN_TOTO,
      IN_TOTO,
      IN_TOTO,
    ]);
    const atPeer = await ok([
      "verify",
      `${distribution.host}/peer/hello:v1`,
      "--key",
      join(work, "release.pub"),
    ]);
    assert.match(atPeer.stdout, /^Verified /m);
    const layout = join(work, "copied");
    await ok(["copy", source, `oci-layout:${layout}:v1`]);
    const inLayout = await ok(["verify", `oci-layout:${layout}:v1`, "--key", join(work, "release.pub")]);
    assert.match(inLayout.stdout, /^Verified /m);
    const sbom = await ok(["sbom", `oci-layout:${layout}:v1`, "--format", "cyclonedx"]);
    assert.equal((JSON.parse(sbom.stdout) as { specVersion: string }).specVersion, "1.6");
    // A key that did not sign it does not verify it, at the destination either.
    await ok(["key", "generate", "stranger"]);
    await writeFile(join(work, "stranger.pub"), (await ok(["key", "public", "stranger"])).stdout);
    const wrong = await strata(["verify", `oci-layout:${layout}:v1`, "--key", join(work, "stranger.pub")]);
    assert.equal(wrong.code, 1);
  });
});
