// Keys as people bring them — written by the real openssl CLI in each PEM form, encrypted or not,
// and cosign's own form — and as Strata writes them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { sign, verify } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SignError } from "./errors.ts";
import {
  cosignPrivateKeyPem,
  generateSigningKey,
  keyHintOf,
  keyIdOf,
  publicKeyPem,
  readPrivateKey,
  readPublicKey,
} from "./keys.ts";

let dir: string;
const openssl = (...args: string[]): string =>
  execFileSync("openssl", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
const given = (text: string) => () => Promise.resolve(text);
const never = () => Promise.reject(new Error("the passphrase was asked for an unencrypted key"));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-keys-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The public key openssl derives from a private key file, as SPKI PEM. */
const opensslPublic = (file: string, pass?: string): string =>
  openssl("pkey", "-in", file, "-pubout", ...(pass === undefined ? [] : ["-passin", `pass:${pass}`]));

async function assertSameKey(pem: string, file: string, pass?: string): Promise<void> {
  const key = await readPrivateKey(pem, pass === undefined ? never : given(pass));
  assert.equal(publicKeyPem(key.publicKey), opensslPublic(file, pass));
  assert.equal(key.keyId, keyIdOf(readPublicKey(opensslPublic(file, pass)).publicKey));
  // It signs, and openssl's public key verifies the signature.
  const data = Buffer.from("payload");
  assert.ok(
    verify(
      "sha256",
      data,
      readPublicKey(opensslPublic(file, pass)).publicKey,
      sign("sha256", data, key.privateKey),
    ),
  );
}

describe("keys written by openssl", () => {
  it("reads SEC1 from `openssl ecparam -genkey` (with its EC PARAMETERS block)", async () => {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "sec1.pem");
    const pem = await readFile(join(dir, "sec1.pem"), "utf8");
    assert.match(pem, /BEGIN EC PARAMETERS[\s\S]*BEGIN EC PRIVATE KEY/);
    await assertSameKey(pem, "sec1.pem");
  });

  it("reads PKCS#8 from `openssl genpkey`", async () => {
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p8.pem");
    const pem = await readFile(join(dir, "p8.pem"), "utf8");
    assert.match(pem, /BEGIN PRIVATE KEY/);
    await assertSameKey(pem, "p8.pem");
  });

  it("reads encrypted PKCS#8 from `openssl pkcs8 -topk8 -v2 aes-256-cbc`", async () => {
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "plain.pem");
    openssl(
      "pkcs8",
      "-topk8",
      "-v2",
      "aes-256-cbc",
      "-in",
      "plain.pem",
      "-out",
      "enc8.pem",
      "-passout",
      "pass:s3cret",
    );
    const pem = await readFile(join(dir, "enc8.pem"), "utf8");
    assert.match(pem, /BEGIN ENCRYPTED PRIVATE KEY/);
    await assertSameKey(pem, "enc8.pem", "s3cret");
  });

  it("reads encrypted SEC1 from `openssl ec -aes256`", async () => {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "plain-sec1.pem");
    openssl("ec", "-aes256", "-in", "plain-sec1.pem", "-out", "enc1.pem", "-passout", "pass:s3cret");
    const pem = await readFile(join(dir, "enc1.pem"), "utf8");
    assert.match(pem, /Proc-Type: 4,ENCRYPTED/);
    await assertSameKey(pem, "enc1.pem", "s3cret");
  });

  it("refuses a wrong or missing passphrase with a clear error", async () => {
    for (const file of ["enc8.pem", "enc1.pem"]) {
      const pem = await readFile(join(dir, file), "utf8");
      await assert.rejects(
        readPrivateKey(pem, given("wrong")),
        (e: unknown) =>
          e instanceof SignError && e.code === "KEY_PASSPHRASE" && /wrong passphrase/.test(e.message),
        file,
      );
    }
  });

  it("refuses keys that are not ECDSA P-256, naming what they are", async () => {
    openssl("ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "p384.pem");
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem");
    openssl("genpkey", "-algorithm", "ED25519", "-out", "ed.pem");
    const cases: [string, RegExp][] = [
      ["p384.pem", /curve secp384r1: only ECDSA P-256/],
      ["rsa.pem", /is rsa key: only ECDSA P-256/],
      ["ed.pem", /is ed25519 key: only ECDSA P-256/],
    ];
    for (const [file, message] of cases) {
      const pem = await readFile(join(dir, file), "utf8");
      await assert.rejects(
        readPrivateKey(pem, never),
        (e: unknown) => e instanceof SignError && message.test(e.message),
      );
      assert.throws(() => readPublicKey(opensslPublic(file)), message);
    }
  });

  it("refuses text that holds no private key", async () => {
    await assert.rejects(readPrivateKey("hello", never), /no PEM block/);
    const pub = opensslPublic("p8.pem");
    await assert.rejects(readPrivateKey(pub, never), /no private key in it \(found "PUBLIC KEY"\)/);
    const broken = (await readFile(join(dir, "p8.pem"), "utf8")).replace(
      /\n[A-Za-z0-9+/]{10}/,
      "\nAAAAAAAAAA",
    );
    await assert.rejects(
      readPrivateKey(broken, never),
      (e: unknown) => e instanceof SignError && e.code === "KEY_INVALID",
    );
  });
});

describe("cosign's key format", () => {
  it("round-trips: Strata writes ENCRYPTED SIGSTORE PRIVATE KEY and reads it back", async () => {
    const key = generateSigningKey();
    const pem = await cosignPrivateKeyPem(key, "pass phrase");
    assert.match(pem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const body = JSON.parse(
      Buffer.from(
        pem
          .split("\n")
          .filter((l) => !l.startsWith("-----"))
          .join(""),
        "base64",
      ).toString(),
    ) as { kdf: { name: string; params: unknown; salt: string }; cipher: { name: string; nonce: string } };
    // The envelope go-securesystemslib's `encrypted` writes: scrypt N=2^16, r=8, p=1; secretbox.
    assert.deepEqual(body.kdf.params, { N: 65536, r: 8, p: 1 });
    assert.equal(body.kdf.name, "scrypt");
    assert.equal(Buffer.from(body.kdf.salt, "base64").length, 32);
    assert.equal(body.cipher.name, "nacl/secretbox");
    assert.equal(Buffer.from(body.cipher.nonce, "base64").length, 24);
    const back = await readPrivateKey(pem, given("pass phrase"));
    assert.equal(back.keyId, key.keyId);
    await assert.rejects(readPrivateKey(pem, given("pass phrasE")), /wrong passphrase/);
  });

  it("reads the SIGSTORE-labelled key of cosign's own tests (pkg/cosign/keys_test.go, password hello)", async () => {
    const key = await readPrivateKey(COSIGN_TEST_KEY, given("hello"));
    assert.equal(key.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    await assert.rejects(readPrivateKey(COSIGN_TEST_KEY, given("hello!")), /wrong passphrase/);
  });

  it("refuses a damaged envelope", async () => {
    const bad = (json: unknown) =>
      `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from(JSON.stringify(json)).toString("base64")}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`;
    const kdf = { name: "scrypt", params: { N: 65536, r: 8, p: 1 }, salt: "AAAA" };
    const cipher = { name: "nacl/secretbox", nonce: Buffer.alloc(24).toString("base64") };
    await assert.rejects(
      readPrivateKey(bad({ kdf: { ...kdf, name: "pbkdf2" }, cipher, ciphertext: "" }), given("x")),
      /unknown kdf name "pbkdf2"/,
    );
    await assert.rejects(
      readPrivateKey(
        bad({ kdf: { ...kdf, params: { N: 2, r: 1, p: 1 } }, cipher, ciphertext: "" }),
        given("x"),
      ),
      /unsupported scrypt parameters/,
    );
    await assert.rejects(
      readPrivateKey(bad({ kdf, cipher: { ...cipher, nonce: "AAAA" }, ciphertext: "" }), given("x")),
      /nonce is 3 bytes/,
    );
    await assert.rejects(readPrivateKey(bad([1]), given("x")), /unknown kdf name/);
  });

  it("has a key id and a bundle hint that are the same SHA-256 of the DER SPKI", async () => {
    const key = generateSigningKey();
    const pubFile = join(dir, "k.pub");
    await writeFile(pubFile, publicKeyPem(key.publicKey));
    const der = execFileSync("openssl", ["pkey", "-pubin", "-in", pubFile, "-outform", "DER"]);
    const hex = execFileSync("openssl", ["dgst", "-sha256", "-r"], { input: der, encoding: "utf8" }).split(
      " ",
    )[0];
    assert.equal(key.keyId, hex);
    assert.equal(Buffer.from(keyHintOf(key.publicKey), "base64").toString("hex"), hex);
  });
});

/** From sigstore/cosign pkg/cosign/keys_test.go (`pemsigstorekey`), encrypted with "hello". */
const COSIGN_TEST_KEY = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiI3T3VGd2VsbWZZNXVId2NoaURSc210anNwZ2ZlZjFG
Mk5lOGFDTjVLYVpZPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJQNHk4OGhCb3ZTa09MbXN0bFVBaGJwdDJ0K2xTNUxQSCJ9LCJj
aXBoZXJ0ZXh0IjoiMnB1QzdyZldJOWh3bnJlQ2s4aUZDRlVwQlRrSzRJNlIvbFBF
cnBDekpXUGpJWXl4eGVIL1A2VW52cFJHdVhla1NNb3JMdGhLamdoQ1JlNy82NDVH
QWtoVm1LRC92eEF0S2EvbE1abENSQ3FlekJGUFd1dzNpeFRtZ2xhb2J1ZFVSbUVs
bmNGOGlZbzBTMVl6Y1ZOMVFwY2J2c0dNcUlYRzVlbmdteGp5dCtBcXlyZTF0Q0Y0
V01tU1BlaEljNlBqd2h1Q2xHaVpJUWRvTGc9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
`;
