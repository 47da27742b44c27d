// `strata key`, `strata sign` and `strata verify` against real registries: a real `strata serve`
// (referrers API) and Debian's docker-registry (CNCF Distribution 2.8, no referrers API: the
// `sha256-<hex>` fallback tag), with an image index signed like an image, keys rotated, and
// refusals that leave the registry as it was.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runStrata } from "../helpers/cli-run.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { randomImage, randomIndex, writeOciLayout } from "../helpers/images.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

let work: string;
let strataServer: RunningStrata;
let distribution: RunningDistribution;
const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH,
  HOME: join(work, "home"),
  STRATA_CONFIG_DIR: join(work, "config"),
  STRATA_DATA_DIR: join(work, "data"),
  STRATA_KEY_PASSWORD: "correct horse",
  ...extra,
});
const strata = (args: string[], extra: Record<string, string> = {}, input = "") =>
  runStrata(args, env(extra), input);

interface VerifyJson {
  digest: string;
  verified: boolean;
  signatures: {
    format: string;
    status: string;
    keyId?: string;
    signedAt?: string;
    covers: { digest?: string; reference?: string };
  }[];
}

async function referrers(
  url: string,
  repo: string,
  digest: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/v2/${repo}/referrers/${digest}`);
  return { status: response.status, body: await response.text() };
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-sign-cli-"));
  const image = await randomImage({ seed: 31, layers: 1, size: 256 });
  const index = await randomIndex({ seed: 32, layers: 1, size: 256 });
  await writeOciLayout(join(work, "layout"), [image, index], { tags: ["image", "index"] });
  [strataServer, distribution] = await Promise.all([startStrata(), startDistribution()]);
  for (const host of [strataServer.host, distribution.host])
    for (const tag of ["image", "index"]) {
      const copied = await strata([
        "copy",
        `oci-layout:${join(work, "layout")}:${tag}`,
        `${host}/app:${tag}`,
      ]);
      assert.equal(copied.code, 0, copied.stderr);
    }
  for (const name of ["release", "other"]) {
    const generated = await strata(["key", "generate", name]);
    assert.equal(generated.code, 0, generated.stderr);
  }
  await writeFile(join(work, "release.pub"), (await strata(["key", "public", "release"])).stdout);
  await writeFile(join(work, "other.pub"), (await strata(["key", "public", "other"])).stdout);
});
after(async () => {
  await strataServer?.stop();
  await distribution?.stop();
  await rm(work, { recursive: true, force: true });
});

for (const which of ["strata serve", "docker-registry"] as const) {
  describe(`signing in ${which}`, () => {
    const server = () => (which === "strata serve" ? strataServer : distribution);

    it("signs an image with a bundle referrer and a legacy signature, and verifies both", async () => {
      const ref = `${server().host}/app:image`;
      const signed = await strata(["sign", "--key", "release", "--legacy", "--json", ref]);
      assert.equal(signed.code, 0, signed.stderr);
      const result = JSON.parse(signed.stdout) as {
        digest: string;
        bundle: { digest: string; indexed: string };
        legacy: { tag: string };
      };
      assert.equal(result.bundle.indexed, which === "strata serve" ? "api" : "tag");
      assert.equal(result.legacy.tag, `${result.digest.replace(":", "-")}.sig`);
      if (which === "strata serve") {
        const listed = await referrers(server().url, "app", result.digest);
        assert.equal(listed.status, 200);
        assert.match(listed.body, new RegExp(result.bundle.digest));
        assert.match(listed.body, /application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json/);
      } else {
        // Distribution 2.8 has no referrers API: the fallback tag's index lists the bundle.
        assert.equal((await referrers(server().url, "app", result.digest)).status, 404);
        const fallback = await fetch(`${server().url}/v2/app/manifests/${result.digest.replace(":", "-")}`, {
          headers: { accept: "application/vnd.oci.image.index.v1+json" },
        });
        assert.match(await fallback.text(), new RegExp(result.bundle.digest));
      }

      const verified = await strata(["verify", "--json", "--key", join(work, "release.pub"), ref]);
      assert.equal(verified.code, 0, verified.stderr);
      const report = JSON.parse(verified.stdout) as VerifyJson;
      assert.equal(report.digest, result.digest);
      assert.deepEqual(
        report.signatures.map((s) => [s.format, s.status, s.covers.digest]),
        [
          ["bundle", "valid", result.digest],
          ["legacy", "valid", result.digest],
        ],
      );
      assert.equal(report.signatures[0]?.covers.reference, ref);
      const text = await strata(["verify", "--key", "release", ref]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`^Verified ${ref.replace(/[.]/g, "\\.")} ${result.digest} \\(2 of 2 signatures valid\\)`),
      );
    });

    it("signs an image index the same way", async () => {
      const ref = `${server().host}/app:index`;
      assert.equal((await strata(["sign", "--key", "release", ref])).code, 0);
      const verified = await strata(["verify", "--json", "--key", "release", ref]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal((JSON.parse(verified.stdout) as VerifyJson).verified, true);
    });

    it("exits 1 for a key that did not sign, and for an unsigned image", async () => {
      const wrong = await strata(["verify", "--key", join(work, "other.pub"), `${server().host}/app:image`]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stdout, /untrusted-key/);
      assert.match(wrong.stderr, /^Error: No valid signature on .* by the given keys\n$/);
      await writeOciLayout(
        join(work, `unsigned-${which.length}`),
        [await randomImage({ seed: 40 + which.length, layers: 1, size: 64 })],
        { tags: ["u"] },
      );
      const copied = await strata([
        "copy",
        `oci-layout:${join(work, `unsigned-${which.length}`)}:u`,
        `${server().host}/app:unsigned`,
      ]);
      assert.equal(copied.code, 0, copied.stderr);
      const unsigned = await strata(["verify", "--key", "release", `${server().host}/app:unsigned`]);
      assert.equal(unsigned.code, 1);
      assert.match(unsigned.stderr, /is not signed\n$/);
    });
  });
}

describe("keys and rotation through the CLI", () => {
  it("lists keys with their ids and not-after dates", async () => {
    const listed = await strata(["key", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const keys = JSON.parse(listed.stdout) as { name: string; keyId: string; expired: boolean }[];
    assert.deepEqual(
      keys.map((k) => [k.name, k.expired]),
      [
        ["other", false],
        ["release", false],
      ],
    );
    const pem = await readFile(join(work, "config", "keys", "release.key"), "utf8");
    assert.match(pem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
  });

  it("refuses to sign with an expired key and leaves the registry as it was; earlier signatures still verify", async () => {
    const ref = `${strataServer.host}/app:image`;
    const generated = await strata(["key", "generate", "old"]);
    assert.equal(generated.code, 0, generated.stderr);
    assert.equal((await strata(["sign", "--key", "old", ref])).code, 0);
    const digest = (
      JSON.parse((await strata(["verify", "--json", "--key", "old", ref])).stdout) as VerifyJson
    ).digest;
    const before = await referrers(strataServer.url, "app", digest);
    // Rotation: the key's not-after moves into the past.
    const expired = await strata(["key", "expire", "old", "2020-01-01"]);
    assert.equal(expired.code, 0, expired.stderr);
    const refused = await strata(["sign", "--key", "old", ref]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /expired at 2020-01-01T23:59:59.999Z \(its not-after date\)/);
    assert.deepEqual(await referrers(strataServer.url, "app", digest), before);
    // Signed after that date (the signature's claimed time): not valid for the rotated key.
    const verified = await strata(["verify", "--json", "--key", "old", ref]);
    assert.equal(verified.code, 1);
    assert.ok((JSON.parse(verified.stdout) as VerifyJson).signatures.some((s) => s.status === "key-expired"));
    // The .pub with its metadata beside it carries the date to verify too.
    const byFile = await strata(["verify", "--json", "--key", join(work, "config", "keys", "old.pub"), ref]);
    assert.equal(byFile.code, 1);
    // Moving the date after the signature makes it valid again: it was made before.
    assert.equal((await strata(["key", "expire", "old", "2999-01-01"])).code, 0);
    assert.equal((await strata(["verify", "--key", "old", ref])).code, 0);
  });

  it("refuses bad names, dates, passphrases and keys with clear errors and exit codes", async () => {
    const badDate = await strata(["key", "generate", "x", "--not-after", "tomorrow"]);
    assert.equal(badDate.code, 2);
    assert.match(badDate.stderr, /Invalid date "tomorrow"/);
    const badName = await strata(["key", "generate", "../escape"]);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /Invalid key name "..\/escape"/);
    const taken = await strata(["key", "generate", "release"]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /A key named "release" exists already/);
    const wrongPass = await strata(["sign", "--key", "release", `${strataServer.host}/app:image`], {
      STRATA_KEY_PASSWORD: "nope",
    });
    assert.equal(wrongPass.code, 1);
    assert.match(wrongPass.stderr, /wrong passphrase/);
    // The passphrase on standard input, as cosign takes it without COSIGN_PASSWORD.
    const { STRATA_KEY_PASSWORD: _p, ...noPass } = env();
    const fromStdin = await runStrata(
      ["sign", "--key", "release", `${strataServer.host}/app:index`],
      noPass,
      "correct horse\n",
    );
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    const noKey = await strata(["verify", "--key", "missing", `${strataServer.host}/app:image`]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /No key "missing"/);
    const legacyLocal = await strata(["sign", "--legacy", "--key", "release", "app:image"]);
    assert.equal(legacyLocal.code, 2);
    assert.match(legacyLocal.stderr, /Cannot write a legacy signature in the local store/);
  });

  it("imports a key written by openssl and signs with it", async () => {
    const { execFileSync } = await import("node:child_process");
    const file = join(work, "brought.pem");
    execFileSync(
      "openssl",
      ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file],
      { stdio: "ignore" },
    );
    const imported = await strata(["key", "import", "--json", file]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((JSON.parse(imported.stdout) as { name: string }).name, "brought");
    const ref = `${distribution.host}/app:index`;
    assert.equal((await strata(["sign", "--key", file, ref])).code, 0);
    assert.equal((await strata(["verify", "--key", "brought", ref])).code, 0);
  });
});
