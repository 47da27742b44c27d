// Signing and verifying through an OCI layout endpoint: the stored shape (cosign v3's referrer and
// bundle), interop with the reference JavaScript Sigstore libraries in both directions, the
// legacy signature checked by openssl, rotation, and every kind of bad signature.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, sign as cryptoSign } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { bundleFromJSON } from "@sigstore/bundle";
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, type Signer } from "@sigstore/sign";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { MediaType } from "../oci/index.ts";
import { createLayoutEndpoint, type Endpoint } from "../remote/index.ts";
import { randomImage, writeOciLayout, type TestImage } from "../../test/helpers/images.ts";
import {
  attachReferrer,
  bundleReferrer,
  createBundle,
  generateSigningKey,
  keyHintOf,
  legacySignatureTag,
  publicKeyPem,
  signatureReferrer,
  signImage,
  SignError,
  trustedKeyOf,
  verifyImage,
  type SigningKey,
} from "./index.ts";

let root: string;
let dir: string;
let endpoint: Endpoint;
let image: TestImage;
let other: TestImage;
const alice = generateSigningKey();
const bob = generateSigningKey();
const subjectOf = (img: TestImage) => ({
  mediaType: MediaType.ImageManifest,
  digest: img.manifestDigest,
  size: img.manifest.length,
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), "strata-sign-"));
  image = await randomImage({ seed: 11, layers: 1, size: 64 });
  other = await randomImage({ seed: 12, layers: 1, size: 64 });
});
beforeEach(async () => {
  dir = await mkdtemp(join(root, "layout-"));
  await writeOciLayout(dir, [image, other], { tags: ["v1", "v2"] });
  endpoint = createLayoutEndpoint(dir);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function storedBundle(
  referrerDigest: string,
): Promise<{ manifest: Record<string, unknown>; bundle: Buffer }> {
  const manifest = JSON.parse((await endpoint.readManifest(referrerDigest)).toString()) as {
    layers: { digest: string }[];
  };
  const layer = manifest.layers[0];
  assert.ok(layer);
  return { manifest, bundle: await readFile(join(dir, "blobs", "sha256", layer.digest.slice(7))) };
}

describe("signing", () => {
  it("stores a cosign v3 bundle referrer: artifactType, empty config, one bundle layer, subject, annotations", async () => {
    const now = new Date("2026-03-01T10:00:00.123Z");
    const result = await signImage(endpoint, "v1", alice, { reference: "registry.test/app:v1", now });
    assert.equal(result.digest, image.manifestDigest);
    assert.equal(result.bundle.indexed, "layout");
    const { manifest, bundle } = await storedBundle(result.bundle.digest);
    assert.deepEqual(manifest, {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      config: {
        mediaType: "application/vnd.oci.empty.v1+json",
        size: 2,
        digest: `sha256:${createHash("sha256").update("{}").digest("hex")}`,
        artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      },
      layers: [
        {
          mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
          size: bundle.length,
          digest: `sha256:${createHash("sha256").update(bundle).digest("hex")}`,
        },
      ],
      annotations: {
        "dev.sigstore.bundle.content": "dsse-envelope",
        "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1",
        "org.opencontainers.image.created": "2026-03-01T10:00:00Z",
      },
      subject: subjectOf(image),
      artifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    });
    const json = JSON.parse(bundle.toString()) as {
      mediaType: string;
      verificationMaterial: { publicKey: { hint: string } };
      dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
    };
    assert.equal(json.mediaType, "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert.equal(json.verificationMaterial.publicKey.hint, keyHintOf(alice.publicKey));
    assert.equal(json.dsseEnvelope.payloadType, "application/vnd.in-toto+json");
    assert.equal(json.dsseEnvelope.signatures.length, 1);
    assert.deepEqual(JSON.parse(Buffer.from(json.dsseEnvelope.payload, "base64").toString()), {
      _type: "https://in-toto.io/Statement/v1",
      subject: [
        {
          digest: { sha256: image.manifestDigest.slice(7) },
          annotations: {
            "dev.strata.signature.reference": "registry.test/app:v1",
            "dev.strata.signature.signed-at": "2026-03-01T10:00:00.123Z",
          },
        },
      ],
      predicateType: "https://sigstore.dev/cosign/sign/v1",
      predicate: {},
    });
    // The layout lists it as a referrer of the image.
    assert.deepEqual(
      (await endpoint.referrers(image.manifestDigest)).map((r) => [r.digest, r.artifactType]),
      [[result.bundle.digest, MediaType.SigstoreBundle]],
    );
  });

  it("verifies with @sigstore/verify, the reference verifier, given the public key", async () => {
    const result = await signImage(endpoint, "v1", alice);
    const { bundle } = await storedBundle(result.bundle.digest);
    const trust = toTrustMaterial(
      {
        mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        tlogs: [],
        certificateAuthorities: [],
        ctlogs: [],
        timestampAuthorities: [],
      },
      (hint) => {
        if (hint !== keyHintOf(alice.publicKey)) throw new Error(`unknown key hint ${hint}`);
        return { publicKey: alice.publicKey, validFor: () => true };
      },
    );
    const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    const entity = toSignedEntity(bundleFromJSON(JSON.parse(bundle.toString())));
    assert.deepEqual(
      verifier.verify(entity).key.export({ format: "pem", type: "spki" }),
      publicKeyPem(alice.publicKey),
    );
    // And refuses it when the payload is changed.
    const json = JSON.parse(bundle.toString()) as { dsseEnvelope: { payload: string } };
    json.dsseEnvelope.payload = Buffer.from(
      Buffer.from(json.dsseEnvelope.payload, "base64")
        .toString()
        .replace(image.manifestDigest.slice(7), other.manifestDigest.slice(7)),
    ).toString("base64");
    assert.throws(
      () => verifier.verify(toSignedEntity(bundleFromJSON(json))),
      /signature verification failed/,
    );
  });

  it("refuses to sign with a key past its not-after date, and stores nothing", async () => {
    const expiring: SigningKey = { ...alice, notAfter: new Date("2026-01-01T00:00:00Z") };
    const before = await readFile(join(dir, "index.json"), "utf8");
    await assert.rejects(
      signImage(endpoint, "v1", expiring, { now: new Date("2026-01-02T00:00:00Z"), legacy: true }),
      (e: unknown) =>
        e instanceof SignError &&
        e.code === "KEY_EXPIRED" &&
        /expired at 2026-01-01T00:00:00.000Z/.test(e.message),
    );
    assert.equal(await readFile(join(dir, "index.json"), "utf8"), before);
  });
});

/** A @sigstore/sign signer backed by a node:crypto key, with cosign's key hint. */
const signerOf = (key: SigningKey): Signer => ({
  sign: (data) =>
    Promise.resolve({
      signature: cryptoSign("sha256", data, key.privateKey),
      key: { $case: "publicKey", publicKey: publicKeyPem(key.publicKey), hint: keyHintOf(key.publicKey) },
    }),
});

describe("bundles made by @sigstore/sign", () => {
  it("verify when they are DSSE envelopes over cosign's statement", async () => {
    const statement = {
      _type: "https://in-toto.io/Statement/v1",
      subject: [{ digest: { sha256: image.manifestDigest.slice(7) } }],
      predicateType: "https://sigstore.dev/cosign/sign/v1",
      predicate: {},
    };
    const bundle = await new DSSEBundleBuilder({ signer: signerOf(bob), witnesses: [] }).create({
      data: Buffer.from(JSON.stringify(statement)),
      type: "application/vnd.in-toto+json",
    });
    const bytes = Buffer.from(JSON.stringify((await import("@sigstore/bundle")).bundleToJSON(bundle)));
    await attachReferrer(endpoint, subjectOf(image), bundleReferrer(subjectOf(image), bytes, new Date()));
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(bob, "bob")]);
    assert.equal(result.verified, true);
    assert.deepEqual(
      result.signatures.map((s) => [s.status, s.keyId, s.keyName, s.covers.digest]),
      [["valid", bob.keyId, "bob", image.manifestDigest]],
    );
    // A statement without a signing time cannot be judged against a not-after date.
    const dated = await verifyImage(endpoint, "v1", [
      { ...trustedKeyOf(bob), notAfter: new Date("2030-01-01") },
    ]);
    assert.equal(dated.signatures[0]?.status, "key-expired");
    assert.match(dated.signatures[0]?.problem ?? "", /no signing time/);
  });

  it("verify when they are message signatures over the manifest's bytes", async () => {
    const bundle = await new MessageSignatureBundleBuilder({ signer: signerOf(bob), witnesses: [] }).create({
      data: image.manifest,
    });
    const bytes = Buffer.from(JSON.stringify((await import("@sigstore/bundle")).bundleToJSON(bundle)));
    await attachReferrer(endpoint, subjectOf(image), bundleReferrer(subjectOf(image), bytes, new Date()));
    const ok = await verifyImage(endpoint, "v1", [trustedKeyOf(bob)]);
    assert.deepEqual(
      ok.signatures.map((s) => s.status),
      ["valid"],
    );
    // The same bundle attached to another manifest covers the wrong digest.
    await attachReferrer(endpoint, subjectOf(other), bundleReferrer(subjectOf(other), bytes, new Date()));
    const moved = await verifyImage(endpoint, "v2", [trustedKeyOf(bob)]);
    assert.equal(moved.verified, false);
    assert.deepEqual(
      moved.signatures.map((s) => [s.status, s.problem]),
      [["wrong-digest", `it signs ${image.manifestDigest}, not ${other.manifestDigest}`]],
    );
  });
});

describe("legacy signatures", () => {
  it("are cosign's .sig manifest, appended to, and verify with openssl over the payload", async () => {
    await signImage(endpoint, "v1", alice, { legacy: true, repository: "registry.test/app" });
    const second = await signImage(endpoint, "v1", bob, { legacy: true, repository: "registry.test/app" });
    assert.equal(second.legacy?.tag, legacySignatureTag(image.manifestDigest));
    assert.equal(second.legacy?.signatures, 2);
    const entry = await endpoint.resolve(`sha256-${image.manifestDigest.slice(7)}.sig`);
    const manifest = JSON.parse((await endpoint.readManifest(entry.digest)).toString()) as {
      config: { mediaType: string };
      layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
    };
    assert.equal(manifest.config.mediaType, MediaType.ImageConfig);
    assert.equal(manifest.layers.length, 2);
    for (const [i, key] of [alice, bob].entries()) {
      const layer = manifest.layers[i];
      assert.ok(layer);
      assert.equal(layer.mediaType, "application/vnd.dev.cosign.simplesigning.v1+json");
      const payloadFile = join(dir, "blobs", "sha256", layer.digest.slice(7));
      const payload = JSON.parse(await readFile(payloadFile, "utf8")) as {
        critical: { identity: Record<string, string>; image: Record<string, string>; type: string };
      };
      assert.deepEqual(payload.critical, {
        identity: { "docker-reference": "registry.test/app" },
        image: { "docker-manifest-digest": image.manifestDigest },
        type: "cosign container image signature",
      });
      const sig = join(root, `sig-${i}.der`);
      const pub = join(root, `pub-${i}.pem`);
      await writeFile(
        sig,
        Buffer.from(layer.annotations["dev.cosignproject.cosign/signature"] ?? "", "base64"),
      );
      await writeFile(pub, publicKeyPem(key.publicKey));
      const out = execFileSync(
        "openssl",
        ["dgst", "-sha256", "-verify", pub, "-signature", sig, payloadFile],
        {
          encoding: "utf8",
        },
      );
      assert.equal(out.trim(), "Verified OK");
    }
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(bob)]);
    assert.deepEqual(
      result.signatures.map((s) => [s.format, s.status]),
      [
        ["bundle", "untrusted-key"],
        ["bundle", "valid"],
        ["legacy", "untrusted-key"],
        ["legacy", "valid"],
      ],
    );
  });
});

describe("verification refuses", () => {
  it("an unsigned image", async () => {
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(alice)]);
    assert.deepEqual(result, {
      digest: image.manifestDigest,
      mediaType: MediaType.ImageManifest,
      verified: false,
      signatures: [],
    });
  });

  it("signatures by other keys", async () => {
    await signImage(endpoint, "v1", alice);
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(bob)]);
    assert.equal(result.verified, false);
    assert.equal(result.signatures[0]?.status, "untrusted-key");
    assert.equal(result.signatures[0]?.keyId, alice.keyId);
    assert.match(
      result.signatures[0]?.problem ?? "",
      /signed by key [0-9a-f]{64}, which is not among the given keys/,
    );
  });

  it("a tampered payload", async () => {
    const bundle = JSON.parse(
      createBundle(alice, { digest: image.manifestDigest }, new Date()).toString(),
    ) as {
      dsseEnvelope: { payload: string };
    };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString()) as {
      subject: { annotations: Record<string, string> }[];
    };
    const first = statement.subject[0];
    assert.ok(first);
    first.annotations["dev.strata.signature.signed-at"] = "2020-01-01T00:00:00.000Z";
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
    await attachReferrer(
      endpoint,
      subjectOf(image),
      bundleReferrer(subjectOf(image), Buffer.from(JSON.stringify(bundle)), new Date()),
    );
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(alice)]);
    assert.equal(result.verified, false);
    assert.equal(result.signatures[0]?.status, "bad-signature");
    assert.match(
      result.signatures[0]?.problem ?? "",
      /does not verify with it: the payload or the signature was changed/,
    );
  });

  it("a signature over another digest", async () => {
    const artifact = signatureReferrer(subjectOf(other), alice);
    // Its bundle, moved under a referrer of the image.
    const bundle = artifact.blobs.find((b) => b.mediaType === MediaType.SigstoreBundle);
    assert.ok(bundle);
    await attachReferrer(
      endpoint,
      subjectOf(image),
      bundleReferrer(subjectOf(image), bundle.bytes, new Date()),
    );
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(alice)]);
    assert.equal(result.verified, false);
    assert.equal(result.signatures[0]?.status, "wrong-digest");
    assert.equal(
      result.signatures[0]?.problem,
      `it signs ${other.manifestDigest}, not ${image.manifestDigest}`,
    );
  });

  it("a signature made after the key's not-after, while one made before still verifies", async () => {
    await signImage(endpoint, "v1", alice, { now: new Date("2026-01-01T00:00:00Z") });
    await signImage(endpoint, "v1", alice, { now: new Date("2026-06-01T00:00:00Z") });
    const rotated = { ...trustedKeyOf(alice), notAfter: new Date("2026-03-01T00:00:00Z") };
    const result = await verifyImage(endpoint, "v1", [rotated], { now: new Date("2026-07-01T00:00:00Z") });
    assert.equal(result.verified, true);
    assert.deepEqual(result.signatures.map((s) => [s.status, s.signedAt]).sort(), [
      ["key-expired", "2026-06-01T00:00:00.000Z"],
      ["valid", "2026-01-01T00:00:00.000Z"],
    ]);
    const late = await verifyImage(endpoint, "v1", [
      { ...rotated, notAfter: new Date("2025-12-01T00:00:00Z") },
    ]);
    assert.equal(late.verified, false);
    assert.match(late.signatures[0]?.problem ?? "", /after the key's not-after 2025-12-01/);
  });

  it("malformed bundles and the wrong media types, each with its reason", async () => {
    const cases: [Buffer, RegExp][] = [
      [Buffer.from("not json"), /Malformed Sigstore bundle: not JSON/],
      [
        Buffer.from(JSON.stringify({ mediaType: "application/json" })),
        /media type "application\/json" is not/,
      ],
      [
        Buffer.from(
          JSON.stringify({ mediaType: MediaType.SigstoreBundle, verificationMaterial: { publicKey: {} } }),
        ),
        /neither a dsseEnvelope nor a messageSignature/,
      ],
      [
        Buffer.from(
          JSON.stringify({
            mediaType: MediaType.SigstoreBundle,
            verificationMaterial: { publicKey: {} },
            dsseEnvelope: { payload: "!!", payloadType: "x", signatures: [] },
          }),
        ),
        /dsseEnvelope.payload is not base64/,
      ],
    ];
    for (const [bytes] of cases)
      await attachReferrer(endpoint, subjectOf(image), bundleReferrer(subjectOf(image), bytes, new Date()));
    // A referrer whose layer is not a bundle.
    const wrong = bundleReferrer(
      subjectOf(image),
      createBundle(alice, { digest: image.manifestDigest }, new Date()),
      new Date(),
    );
    const manifest = JSON.parse(wrong.manifest.toString()) as { layers: { mediaType: string }[] };
    const layer = manifest.layers[0];
    assert.ok(layer);
    layer.mediaType = "application/json";
    const bytes = Buffer.from(JSON.stringify(manifest));
    await attachReferrer(endpoint, subjectOf(image), {
      ...wrong,
      manifest: bytes,
      digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    });
    const result = await verifyImage(endpoint, "v1", [trustedKeyOf(alice)]);
    assert.equal(result.verified, false);
    assert.equal(result.signatures.length, cases.length + 1);
    assert.ok(result.signatures.every((s) => s.status === "malformed"));
    for (const [, message] of cases)
      assert.ok(
        result.signatures.some((s) => message.test(s.problem ?? "")),
        String(message),
      );
    assert.ok(
      result.signatures.some((s) => /layer's media type "application\/json" is not/.test(s.problem ?? "")),
    );
  });

  it("verifying with no key at all", async () => {
    await assert.rejects(verifyImage(endpoint, "v1", []), /No key to verify with/);
  });
});
