// The release path of `strata build`: a strata.yaml template whose test gates must pass before
// anything is written; a push with the provenance attached as a referrer; a registry base and a
// gallery base (revoked ones refused); --publish into the gallery with the template's metadata;
// the layer cache exported to a registry and imported into an empty cache; a push to CNCF
// Distribution (referrers through the tag fallback); and template errors naming the field.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { runOk } from "../helpers/exec.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let work: string;
let strataServer: InProcess;
let distribution: RunningDistribution;
let host: string;
let env: Record<string, string>;

const strata = (args: readonly string[], extra: Record<string, string> = {}) =>
  runStrata(args, { ...env, ...extra });

async function ok(args: readonly string[], extra: Record<string, string> = {}) {
  const result = await strata(args, extra);
  assert.equal(result.code, 0, `strata ${args.join(" ")}: ${result.stderr}`);
  return result;
}

/** A context folder with a strata.yaml. */
async function template(name: string, yaml: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "strata.yaml"), yaml);
  return dir;
}

async function manifestStatus(base: string, repo: string, ref: string): Promise<number> {
  const response = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  return response.status;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-release-"));
  await buildBusyboxBase(join(work, "base"));
  strataServer = await startInProcess({ listen: true });
  distribution = await startDistribution();
  host = new URL(strataServer.url).host;
  env = {
    HOME: join(work, "home"),
    STRATA_SERVER: strataServer.url,
  };
  await ok(["gallery", "create", "prod"]);
  await ok(["image", "define", "prod/hello", "--kind", "container"]);
  await ok(["image", "define", "prod/child", "--kind", "container"]);
});

after(async () => {
  await strataServer?.stop();
  await distribution?.stop();
  await rm(work, { recursive: true, force: true });
});

const GATES = `tests:
  - name: says hello
    command: cat /hello
    stdout: ^hello$
  - name: hello file
    path: /hello
    type: file
    mode: "0644"
    contains: hell
  - name: metadata
    metadata:
      env: {GREETING: hi}
      cmd: [cat, /hello]
      exposedPorts: ["8080"]
`;

describe("strata build with a template", () => {
  it("runs the gates, pushes, and attaches the provenance as a referrer", async () => {
    const ctx = await template(
      "hello",
      `steps:
  - FROM oci-layout:${join(work, "base")}:busybox
  - ARG WORD=hello
  - RUN echo "$WORD" > /hello
  - ENV GREETING=hi
  - EXPOSE 8080
  - CMD ["cat", "/hello"]
tags: [${host}/builds/hello:ci]
${GATES}`,
    );
    const result = await ok(["build", "--push", "--json", ctx]);
    const summary = JSON.parse(result.stdout) as {
      digest: string;
      provenance: string;
      sboms: { spdx: string; cyclonedx: string };
      pushed: { ref: string; referrers: string }[];
      tests: { name: string; passed: boolean }[];
    };
    assert.deepEqual(
      summary.tests.map((t) => [t.name, t.passed]),
      [
        ["says hello", true],
        ["hello file", true],
        ["metadata", true],
      ],
    );
    assert.deepEqual(summary.pushed, [{ ref: `${host}/builds/hello:ci`, referrers: "api" }]);
    const inspected = JSON.parse(
      (await runOk("skopeo", ["inspect", "--tls-verify=false", `docker://${host}/builds/hello:ci`])).stdout,
    ) as { Digest: string };
    assert.equal(inspected.Digest, summary.digest);
    const referrers = (await (
      await fetch(`${strataServer.url}/v2/builds/hello/referrers/${summary.digest}`)
    ).json()) as { manifests: { digest: string; artifactType: string }[] };
    // The provenance and the two SBOMs.
    assert.deepEqual(
      referrers.manifests.map((m) => [m.digest, m.artifactType]).sort(),
      [summary.provenance, summary.sboms.spdx, summary.sboms.cyclonedx]
        .map((d) => [d, "application/vnd.in-toto+json"])
        .sort(),
    );
    const provenance = (await (
      await fetch(`${strataServer.url}/v2/builds/hello/manifests/${summary.provenance}`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      })
    ).json()) as { layers: { digest: string }[] };
    const statement = (await (
      await fetch(`${strataServer.url}/v2/builds/hello/blobs/${provenance.layers[0]?.digest}`)
    ).json()) as {
      predicate: {
        buildDefinition: {
          externalParameters: { template?: string; buildArgs: Record<string, string> };
          resolvedDependencies: { uri: string }[];
        };
      };
    };
    assert.equal(statement.predicate.buildDefinition.externalParameters.template, "strata.yaml");
    assert.equal(statement.predicate.buildDefinition.resolvedDependencies[0]?.uri, "file:strata.yaml");
    // Kept in the local store too, under its full name.
    const store = JSON.parse(
      (
        await runOk("skopeo", [
          "inspect",
          `oci:${join(work, "home/.local/share/strata/images")}:${host}/builds/hello:ci`,
        ])
      ).stdout,
    ) as { Digest: string };
    assert.equal(store.Digest, summary.digest);
  });

  it("a failing gate fails the build, and nothing is written, pushed or published", async () => {
    const layout = join(work, "never");
    const ctx = await template(
      "failing",
      `steps:
  - FROM oci-layout:${join(work, "base")}:busybox
  - RUN echo goodbye > /hello
  - USER 1000
tags: [${host}/builds/failing:ci, "oci-layout:${layout}:v1", local/failing:v1]
gallery:
  image: prod/hello
  version: 9.9.9
${GATES}  - name: runs as root
    metadata: {user: ""}
`,
    );
    const storeIndex = join(work, "home/.local/share/strata/images/index.json");
    const storeBefore = await (await import("node:fs/promises")).readFile(storeIndex, "utf8");
    const result = await strata(["build", ctx, "--push", "--publish"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /FAIL says hello\n {5}stdout does not match \/\^hello\$\/: "goodbye\\n"/);
    assert.match(result.stderr, /FAIL hello file\n {5}\/hello does not contain \/hell\//);
    assert.match(result.stderr, /FAIL metadata\n {5}env GREETING is null, expected "hi"/);
    assert.match(result.stderr, /FAIL runs as root\n {5}user is "1000", expected ""/);
    assert.match(
      result.stderr,
      /Error: 4 of 4 tests failed \(says hello, hello file, metadata, runs as root\): nothing was written, pushed or published/,
    );
    // Nothing changed: no tag in the registry, no layout, the local store as it was, no version.
    assert.equal(await manifestStatus(strataServer.url, "builds/failing", "ci"), 404);
    assert.equal(await exists(layout), false);
    assert.equal(await (await import("node:fs/promises")).readFile(storeIndex, "utf8"), storeBefore);
    const versions = await ok(["version", "list", "prod/hello", "--json"]);
    assert.deepEqual(JSON.parse(versions.stdout), []);
  });

  it("builds on a registry base and publishes a gallery version with the template's metadata", async () => {
    const ctx = await template(
      "child",
      `containerfile: Containerfile
tags: [${host}/builds/child:ci]
gallery:
  image: prod/child
  version: 1.0.0
  changelog: adds /version
  owner: team-web
  eol: 2099-12-31
tests:
  - name: both files
    command: cat /hello /version
    stdout: hello\\nv1
`,
    );
    await writeFile(join(ctx, "Containerfile"), `FROM ${host}/prod/hello:1.0.0\nRUN echo v1 > /version\n`);
    // The base is itself a published gallery version.
    await ok(["version", "publish", "prod/hello", "1.0.0", "--from", `${host}/builds/hello:ci`]);
    const result = await ok(["build", "--publish", "--json", ctx]);
    const summary = JSON.parse(result.stdout) as {
      digest: string;
      published: { version: string; digest: string; changelog: string; owner: string; eol: string };
    };
    assert.equal(summary.published.version, "1.0.0");
    assert.equal(summary.published.digest, summary.digest);
    assert.equal(summary.published.changelog, "adds /version");
    assert.equal(summary.published.owner, "team-web");
    assert.match(summary.published.eol, /^2099-12-31/);
    const manifest = (await (
      await fetch(`${strataServer.url}/v2/prod/child/manifests/1.0.0`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      })
    ).json()) as { annotations: Record<string, string> };
    const base = JSON.parse(
      (await runOk("skopeo", ["inspect", "--tls-verify=false", `docker://${host}/prod/hello:1.0.0`])).stdout,
    ) as { Digest: string };
    assert.equal(manifest.annotations["org.opencontainers.image.base.digest"], base.Digest);
    assert.equal(manifest.annotations["org.opencontainers.image.base.name"], `${host}/prod/hello:1.0.0`);

    // A revoked base is refused by the gallery, and the build says so.
    await ok(["version", "revoke", "prod/hello", "1.0.0", "--reason", "CVE-2026-0001"]);
    await rm(join(work, "home/.local/share/strata/images"), { recursive: true, force: true });
    const refused = await strata([
      "build",
      "--pull",
      "-t",
      "oci-layout:" + join(work, "refused") + ":x",
      ctx,
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Containerfile:1: base ".*prod\/hello:1\.0\.0": .*revoked.*CVE-2026-0001/);
    assert.equal(await exists(join(work, "refused")), false);
  });

  it("exports the layer cache to a registry and rebuilds from it with an empty local cache", async () => {
    const ctx = await template(
      "cached",
      `steps:
  - FROM oci-layout:${join(work, "base")}:busybox
  - RUN echo one > /one
  - RUN echo two > /two
`,
    );
    const cacheRef = `${host}/builds/cache`;
    const first = JSON.parse(
      (
        await ok([
          "build",
          "--json",
          "--cache-dir",
          join(work, "cache-a"),
          "--cache-to",
          cacheRef,
          "-t",
          `oci-layout:${join(work, "cached-out")}:a`,
          ctx,
        ])
      ).stdout,
    ) as { digest: string; built: number };
    assert.equal(first.built, 2);
    const again = await ok([
      "build",
      "--cache-dir",
      join(work, "cache-b"),
      "--cache-from",
      cacheRef,
      "-t",
      `oci-layout:${join(work, "cached-out")}:b`,
      ctx,
    ]);
    assert.match(again.stderr, /Imported 2 cache entries/);
    assert.match(again.stderr, /CACHED RUN echo one[\s\S]*CACHED RUN echo two/);
    assert.match(again.stdout, /0 built/);
    assert.equal(
      JSON.parse((await runOk("skopeo", ["inspect", `oci:${join(work, "cached-out")}:b`])).stdout).Digest,
      first.digest,
    );
    // The imported layers are kept locally for the next build.
    assert.equal((await readdir(join(work, "cache-b/keys"))).length, 2);
    // A cache that is not there yet is no error.
    const missing = await ok([
      "build",
      "--cache-dir",
      join(work, "cache-c"),
      "--cache-from",
      `${host}/builds/nothing-here`,
      "-t",
      `oci-layout:${join(work, "cached-out")}:c`,
      ctx,
    ]);
    assert.match(missing.stderr, /No build cache at .*nothing-here:buildcache yet/);
    // An image is not a cache: refused, and nothing is built or written.
    const notCache = await strata([
      "build",
      "--cache-dir",
      join(work, "cache-d"),
      "--cache-from",
      `${host}/builds/hello:ci`,
      "-t",
      `oci-layout:${join(work, "never-cached")}:d`,
      ctx,
    ]);
    assert.equal(notCache.code, 1);
    assert.match(notCache.stderr, /builds\/hello:ci is not a Strata build cache/);
    assert.equal(await exists(join(work, "never-cached")), false);
    assert.equal(await exists(join(work, "cache-d/keys")), false);
  });

  it("pushes to CNCF Distribution, with the referrer under the fallback tag", async () => {
    const ctx = await template(
      "peer",
      `steps:
  - FROM oci-layout:${join(work, "base")}:busybox
  - RUN echo peer > /peer
tags: [${distribution.host}/team/peer:v1]
`,
    );
    const summary = JSON.parse((await ok(["build", "--push", "--json", ctx])).stdout) as {
      digest: string;
      provenance: string;
      sboms: { spdx: string; cyclonedx: string };
      pushed: { referrers: string }[];
    };
    assert.equal(summary.pushed[0]?.referrers, "tag");
    const pulled = JSON.parse(
      (await runOk("skopeo", ["inspect", "--tls-verify=false", `docker://${distribution.host}/team/peer:v1`]))
        .stdout,
    ) as { Digest: string };
    assert.equal(pulled.Digest, summary.digest);
    const fallback = (await (
      await fetch(`${distribution.url}/v2/team/peer/manifests/${summary.digest.replace(":", "-")}`, {
        headers: { accept: "application/vnd.oci.image.index.v1+json" },
      })
    ).json()) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(
      fallback.manifests.map((m) => [m.digest, m.artifactType]).sort(),
      [summary.provenance, summary.sboms.spdx, summary.sboms.cyclonedx]
        .map((d) => [d, "application/vnd.in-toto+json"])
        .sort(),
    );
    // Pulled back as a base from the peer.
    const child = await template(
      "peer-child",
      `steps:
  - FROM ${distribution.host}/team/peer:v1
  - RUN cat /peer > /copied
tests:
  - {name: copied, path: /copied, contains: peer}
`,
    );
    await ok(["build", "-t", `oci-layout:${join(work, "peer-out")}:x`, child]);
  });

  it("refuses a malformed template with the file and field, and builds nothing", async () => {
    const cases: [string, RegExp][] = [
      ["steps: [FROM scratch]\ncolour: blue\n", /strata\.yaml: colour: unknown field/],
      [
        "containerfile: Containerfile\nsteps: [FROM scratch]\n",
        /give exactly one of containerfile .* and steps/,
      ],
      ["tags: [x]\n", /give exactly one of containerfile/],
      [
        "steps: [FROM scratch]\ntests:\n  - {name: m, path: /x, mode: 0755}\n",
        /tests\[0\]\.mode: expected octal digits in quotes/,
      ],
      [
        "steps: [FROM scratch]\ntests:\n  - {name: r, command: [true], stdout: '('}\n",
        /tests\[0\]\.stdout: invalid regular expression/,
      ],
      [
        "steps: [FROM scratch]\ntests:\n  - {name: a, path: /x}\n  - {name: a, path: /y}\n",
        /tests\[1\]\.name: another test is named "a"/,
      ],
      [
        "steps: [FROM scratch]\ntests:\n  - {name: b, path: /x, command: ls}\n",
        /tests\[0\]: a test has exactly one of command, path or metadata/,
      ],
      [
        "steps: [FROM scratch]\ntests:\n  - {name: e, command: ls, exitCode: 300}\n",
        /tests\[0\]\.exitCode: expected a whole number from 0 to 255/,
      ],
      ["steps: [FROM scratch]\ngallery: {image: nogallery}\n", /gallery\.image: expected GALLERY\/NAME/],
      ["steps: [FROM scratch]\nargs: [A]\n", /args: expected a mapping of names to strings/],
      ["steps:\n  - FROM scratch\n   bad: indent\n", /strata\.yaml:\d+: invalid YAML/],
      ["steps: [FROM scratch, BOGUS x]\n", /strata\.yaml \(steps\):2: unknown instruction/],
    ];
    const out = join(work, "bad-out");
    for (const [yaml, expected] of cases) {
      const ctx = await template("bad", yaml);
      const result = await strata(["build", "-t", `oci-layout:${out}:x`, ctx]);
      assert.notEqual(result.code, 0, yaml);
      assert.match(result.stderr, expected, yaml);
      assert.equal(await exists(out), false, yaml);
    }
    const publishWithout = await strata([
      "build",
      await template("bad", "steps: [FROM scratch]\n"),
      "--publish",
    ]);
    assert.equal(publishWithout.code, 2);
    assert.match(publishWithout.stderr, /--publish needs GALLERY\/NAME@VERSION/);
  });
});
