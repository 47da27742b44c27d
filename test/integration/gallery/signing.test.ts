// Galleries that sign: keys made by the real openssl (an encrypted PKCS#8 key with its password
// in the configuration, an unencrypted SEC1 key), a rotated-out public key trusted beside them.
// A version published into a signing gallery carries a signature referrer that verifies with
// that gallery's key through the registry API; a version copied into another signing gallery
// keeps the first signature and gains the second; the keys API shows the public halves; a key
// past its not-after date refuses publishing with nothing changed; a key that cannot be read
// stops the server's start naming the configuration key.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createRegistryEndpoint, RegistryClient } from "../../../src/remote/index.ts";
import { keyIdOf, readPublicKey, verifyImage, type TrustedKey } from "../../../src/sign/index.ts";
import { authYaml, galleryApi, PASSWORD, pushImage } from "../../helpers/gallery.ts";
import { runStrata } from "../../helpers/cli-run.ts";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";

const run = promisify(execFile);
const BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json";

let work: string;
let s: InProcess;
let api: ReturnType<typeof galleryApi>;
let client: RegistryClient;
const pub: Record<string, TrustedKey> = {};

async function openssl(...args: string[]): Promise<void> {
  await run("openssl", args);
}

async function publicOf(name: string, keyFile: string, pass?: string): Promise<TrustedKey> {
  const out = join(work, `${name}.pub`);
  await openssl(
    "pkey",
    "-in",
    keyFile,
    ...(pass === undefined ? [] : ["-passin", `pass:${pass}`]),
    "-pubout",
    "-out",
    out,
  );
  return readPublicKey(await readFile(out, "utf8"), { name });
}

async function signatures(repository: string, digest: string): Promise<string[]> {
  const res = await s.server.app.inject({
    url: `/v2/${repository}/referrers/${digest}`,
    headers: { authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}` },
  });
  const index = JSON.parse(res.body) as { manifests: { digest: string; artifactType?: string }[] };
  return index.manifests.filter((m) => m.artifactType === BUNDLE).map((m) => m.digest);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-gallery-signing-"));
  // stage: SEC1, unencrypted; prod: PKCS#8 encrypted with a password; old: a rotated-out key.
  await openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(work, "stage.key"));
  await openssl(
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-aes-256-cbc",
    "-pass",
    "pass:prod-secret",
    "-out",
    join(work, "prod.key"),
  );
  await openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(work, "old.key"));
  // An expired key: its not-after, in the metadata file beside it, is past.
  await openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(work, "expired.key"));
  pub.stage = await publicOf("stage", join(work, "stage.key"));
  pub.prod = await publicOf("prod", join(work, "prod.key"), "prod-secret");
  pub.old = await publicOf("old", join(work, "old.key"));
  const expired = await publicOf("expired", join(work, "expired.key"));
  await writeFile(
    join(work, "expired.json"),
    JSON.stringify({
      keyId: keyIdOf(expired.publicKey),
      created: "2020-01-01T00:00:00.000Z",
      notAfter: "2021-01-01T00:00:00.000Z",
    }),
  );
  const yaml = await authYaml(
    ["alice"],
    [
      "gallery:",
      "  signing:",
      `    stage: { key: ${JSON.stringify(join(work, "stage.key"))} }`,
      `    prod: { key: ${JSON.stringify(join(work, "prod.key"))}, password: prod-secret, trust: [${JSON.stringify(join(work, "old.pub"))}] }`,
      `    old: { key: ${JSON.stringify(join(work, "expired.key"))} }`,
      "",
    ].join("\n"),
  );
  s = await startInProcess({ listen: true, yaml });
  api = galleryApi(s.server.app);
  client = new RegistryClient({
    registry: new URL(s.url).host,
    credentials: { username: "alice", password: PASSWORD },
    insecure: true,
  });
  for (const gallery of ["stage", "prod", "old", "plain"]) {
    assert.equal((await api("POST", "/galleries", { name: gallery }, "alice")).status, 201);
    assert.equal(
      (await api("POST", `/galleries/${gallery}/images`, { name: "web", kind: "container" }, "alice")).status,
      201,
    );
  }
});
after(async () => {
  await s?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("galleries that sign", () => {
  let digest: string;

  it("signs a version published into a gallery with a key; the signature verifies through the registry", async () => {
    digest = await pushImage(s.server.app, "builds/web", "v1", "one", { user: "alice" });
    const published = await api(
      "POST",
      "/galleries/stage/images/web/versions",
      { version: "1.0.0", from: `builds/web@${digest}` },
      "alice",
    );
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal((await signatures("stage/web", digest)).length, 1);
    const stage = await verifyImage(createRegistryEndpoint(client, "stage/web"), digest, [pub.stage!]);
    assert.equal(stage.verified, true, JSON.stringify(stage.signatures));
    assert.equal(stage.signatures[0]?.keyId, pub.stage?.keyId);
    // Another gallery's key does not verify it.
    const other = await verifyImage(createRegistryEndpoint(client, "stage/web"), digest, [pub.prod!]);
    assert.equal(other.verified, false);
    // Publishing the same version again changes nothing: no second signature.
    const again = await api(
      "POST",
      "/galleries/stage/images/web/versions",
      { version: "1.0.0", from: `builds/web@${digest}` },
      "alice",
    );
    assert.ok(again.status < 300, JSON.stringify(again.body));
    assert.equal((await signatures("stage/web", digest)).length, 1);
  });

  it("keeps the first signature and adds its own when a version is copied into another signing gallery", async () => {
    const published = await api(
      "POST",
      "/galleries/prod/images/web/versions",
      { version: "1.0.0", from: `stage/web@${digest}` },
      "alice",
    );
    assert.equal(published.status, 201, JSON.stringify(published.body));
    assert.equal((await signatures("prod/web", digest)).length, 2);
    const endpoint = createRegistryEndpoint(client, "prod/web");
    for (const key of [pub.prod!, pub.stage!]) {
      const result = await verifyImage(endpoint, digest, [key]);
      assert.equal(result.verified, true, `${key.name}: ${JSON.stringify(result.signatures)}`);
    }
  });

  it("verifies with strata verify --gallery against the keys the server's gallery trusts", async () => {
    const env = {
      STRATA_USERNAME: "alice",
      STRATA_PASSWORD: PASSWORD,
      STRATA_CONFIG_DIR: join(work, "cli-config"),
    };
    const host = new URL(s.url).host;
    const ok = await runStrata(["verify", `${host}/prod/web@${digest}`, "--gallery"], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Verified .*prod\/web/m);
    // An image nobody signed.
    const unsigned = await pushImage(s.server.app, "builds/web", "v2", "two", { user: "alice" });
    const refused = await runStrata(["verify", `${host}/builds/web@${unsigned}`, "--gallery", "prod"], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not signed/);
    const none = await runStrata(["verify", `${host}/plain/web@${digest}`, "--gallery"], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Gallery "plain" .* trusts no keys/);
    const usage = await runStrata(["verify", `${host}/prod/web@${digest}`], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Missing --key or --gallery/);
  });

  it("signs a version promoted into another gallery with that gallery's key", async () => {
    const content = await pushImage(s.server.app, "builds/web", "v5", "five", { user: "alice" });
    const published = await api(
      "POST",
      "/galleries/stage/images/web/versions",
      { version: "1.5.0", from: `builds/web@${content}` },
      "alice",
    );
    assert.equal(published.status, 201, JSON.stringify(published.body));
    const promoted = await api(
      "POST",
      "/promotions",
      { gallery: "stage", image: "web", version: "1.5.0", toGallery: "prod" },
      "alice",
    );
    assert.ok(promoted.status < 300, JSON.stringify(promoted.body));
    assert.equal(
      (await api("GET", "/galleries/prod/images/web/versions/1.5.0", undefined, "alice")).status,
      200,
    );
    const endpoint = createRegistryEndpoint(client, "prod/web");
    for (const key of [pub.prod!, pub.stage!]) {
      const result = await verifyImage(endpoint, content, [key]);
      assert.equal(result.verified, true, `${key.name}: ${JSON.stringify(result.signatures)}`);
    }
  });

  it("does not sign in a gallery without a key", async () => {
    const published = await api(
      "POST",
      "/galleries/plain/images/web/versions",
      { version: "1.0.0", from: `builds/web@${digest}` },
      "alice",
    );
    assert.equal(published.status, 201);
    assert.equal((await signatures("plain/web", digest)).length, 0);
  });

  it("signs the content with a local key on strata version publish --sign, and the publish carries it", async () => {
    const env = {
      STRATA_USERNAME: "alice",
      STRATA_PASSWORD: PASSWORD,
      STRATA_SERVER: s.url,
      STRATA_CONFIG_DIR: join(work, "cli-config"),
      STRATA_KEY_PASSWORD: "ci-pass",
    };
    assert.equal((await runStrata(["key", "generate", "ci"], env)).code, 0);
    const content = await pushImage(s.server.app, "builds/web", "v3", "three", { user: "alice" });
    const published = await runStrata(
      ["version", "publish", "plain/web", "1.2.0", "--from", `builds/web@${content}`, "--sign", "ci"],
      env,
    );
    assert.equal(published.code, 0, published.stderr);
    const exported = await runStrata(["key", "public", "ci"], env);
    const ci = readPublicKey(exported.stdout, { name: "ci" });
    for (const repository of ["builds/web", "plain/web"]) {
      const result = await verifyImage(createRegistryEndpoint(client, repository), content, [ci]);
      assert.equal(result.verified, true, `${repository}: ${JSON.stringify(result.signatures)}`);
    }
    // An expired key stops the publish before anything is signed or published.
    assert.equal((await runStrata(["key", "expire", "ci", "2020-01-01"], env)).code, 0);
    const other = await pushImage(s.server.app, "builds/web", "v4", "four", { user: "alice" });
    const refused = await runStrata(
      ["version", "publish", "plain/web", "1.3.0", "--from", `builds/web@${other}`, "--sign", "ci"],
      env,
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /expired|not-after/i);
    assert.equal((await signatures("builds/web", other)).length, 0);
    assert.equal(
      (await api("GET", "/galleries/plain/images/web/versions/1.3.0", undefined, "alice")).status,
      404,
    );
  });

  it("shows a gallery's public keys", async () => {
    const keys = await api("GET", "/galleries/prod/keys", undefined, "alice");
    assert.equal(keys.status, 200);
    assert.equal(keys.body.signs, true);
    assert.deepEqual(
      keys.body.keys.map((k: { keyId: string; signing: boolean }) => [k.keyId, k.signing]),
      [
        [pub.prod?.keyId, true],
        [pub.old?.keyId, false],
      ],
    );
    assert.match(keys.body.keys[0].publicKey, /^-----BEGIN PUBLIC KEY-----/);
    assert.doesNotMatch(JSON.stringify(keys.body), /PRIVATE/);
    const plain = await api("GET", "/galleries/plain/keys", undefined, "alice");
    assert.deepEqual(plain.body, { gallery: "plain", signs: false, keys: [] });
  });

  it("refuses to publish into a gallery whose key is past its not-after date, changing nothing", async () => {
    const refused = await api(
      "POST",
      "/galleries/old/images/web/versions",
      { version: "1.0.0", from: `builds/web@${digest}` },
      "alice",
    );
    assert.equal(refused.status, 409);
    assert.match(
      refused.body.errors?.[0]?.message ?? JSON.stringify(refused.body),
      /gallery "old" signs what it receives, and its key cannot sign/i,
    );
    assert.equal(
      (await api("GET", "/galleries/old/images/web/versions/1.0.0", undefined, "alice")).status,
      404,
    );
    const res = await s.server.app.inject({
      method: "HEAD",
      url: `/v2/old/web/manifests/${digest}`,
      headers: { authorization: `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}` },
    });
    assert.equal(res.statusCode, 404);
  });

  it("stops the start on a key it cannot read, naming the configuration key", async () => {
    const yaml = `gallery:\n  signing:\n    prod: { key: ${JSON.stringify(join(work, "prod.key"))} }\n`;
    await assert.rejects(
      startInProcess({ yaml }),
      /gallery\.signing\.prod\.key: .*encrypted: give its password in gallery\.signing\.prod\.password/,
    );
    const wrong = `gallery:\n  signing:\n    prod: { key: ${JSON.stringify(join(work, "prod.key"))}, password: nope }\n`;
    await assert.rejects(startInProcess({ yaml: wrong }), /gallery\.signing\.prod\.key: /);
    const missing = `gallery:\n  signing:\n    prod: { key: ${JSON.stringify(join(work, "absent.key"))} }\n`;
    await assert.rejects(
      startInProcess({ yaml: missing }),
      /gallery\.signing\.prod\.key: Cannot read private key/,
    );
  });
});
