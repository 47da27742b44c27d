// SBOM referrers in an OCI layout: attached beside the image, found again by format, a newer one
// replacing the older of the same format, and stored referrers that lie (not JSON, another
// subject, another predicate) refused with the referrer named.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildImage, buildLayer, writeOciLayout, type TestImage } from "../../test/helpers/images.ts";
import { createLayoutEndpoint } from "../remote/index.ts";
import { attachSboms, attachSbomsToLayout, findAttachedSbom } from "./attach.ts";
import { IN_TOTO_STATEMENT, sbomReferrer, sbomReferrers, sbomStatement } from "./attestation.ts";
import type { Inventory } from "./model.ts";

let work: string;
let image: TestImage;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "sbom-attach-"));
  image = buildImage({
    layers: [await buildLayer([{ name: "etc/hostname", type: "file", content: Buffer.from("x") }])],
  });
});
after(() => rm(work, { recursive: true, force: true }));

const INVENTORY: Inventory = {
  os: { id: "debian", versionId: "12" },
  packages: [
    { type: "deb", name: "a", version: "1", purl: "pkg:deb/debian/a@1?distro=debian-12", licenses: ["MIT"] },
  ],
};

async function layout(name: string): Promise<string> {
  const dir = join(work, name);
  await writeOciLayout(dir, [image], { tags: ["v1"] });
  return dir;
}
const subjectOf = () => ({ digest: image.manifestDigest, size: image.manifest.length });
const named = (digest: string) => ({ name: "img", digest });

test("attached SBOMs are found again by format; a newer one replaces the older", async () => {
  const dir = await layout("replace");
  const subject = subjectOf();
  await attachSbomsToLayout(dir, subject, sbomReferrers(INVENTORY, named(subject.digest), subject));
  const endpoint = createLayoutEndpoint(dir);
  const spdx = await findAttachedSbom(endpoint, subject.digest, "spdx");
  assert.equal(spdx?.document.spdxVersion, "SPDX-2.3");
  assert.equal(spdx?.statement._type, IN_TOTO_STATEMENT);
  const cdx = await findAttachedSbom(endpoint, subject.digest, "cyclonedx");
  assert.equal(cdx?.document.specVersion, "1.6");

  const newer: Inventory = { ...INVENTORY, packages: [] };
  await attachSbomsToLayout(dir, subject, sbomReferrers(newer, named(subject.digest), subject));
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: unknown[] };
  assert.equal(index.manifests.length, 3, "the image and one SBOM of each format");
  const found = await findAttachedSbom(endpoint, subject.digest, "spdx");
  assert.equal((found?.document.packages as unknown[]).length, 2, "the image and its OS, no packages");
  assert.equal(await findAttachedSbom(endpoint, `sha256:${"1".repeat(64)}`, "spdx"), undefined);
});

test("a referrer that claims an SBOM and holds something else is refused, naming it", async () => {
  const subject = subjectOf();
  const statement = sbomStatement("spdx", INVENTORY, named(subject.digest));
  const cases: [string, Record<string, unknown> | string, RegExp][] = [
    ["not-json", "<html>", /its statement is not JSON/],
    ["array", "[1]", /its statement is not a JSON object/],
    [
      "other-subject",
      { ...statement, subject: [{ name: "x", digest: { sha256: "0".repeat(64) } }] },
      /about another subject/,
    ],
    [
      "other-predicate",
      { ...statement, predicateType: "https://slsa.dev/provenance/v1" },
      /its annotation says https:\/\/spdx\.dev\/Document\/v2\.3 but the statement holds https:\/\/slsa\.dev\/provenance\/v1/,
    ],
    ["no-document", { ...statement, predicate: "text" }, /no SBOM document as predicate/],
  ];
  for (const [name, body, error] of cases) {
    const dir = await layout(name);
    const honest = sbomReferrer(subject, statement, named(subject.digest));
    const bytes = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    // The same referrer with its statement swapped (and its manifest naming the new bytes).
    const manifest = Buffer.from(
      honest.manifest
        .toString("utf8")
        .replace(honest.blobs[0]?.digest ?? "", digest)
        .replace(`"size":${honest.blobs[0]?.size}`, `"size":${bytes.length}`),
    );
    const liar = {
      ...honest,
      manifest,
      digest: `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
      blobs: [
        { digest, size: bytes.length, mediaType: "application/vnd.in-toto+json", bytes },
        ...honest.blobs.slice(1),
      ],
    };
    const endpoint = createLayoutEndpoint(dir);
    await attachSboms(endpoint, subject, [liar]);
    await assert.rejects(findAttachedSbom(endpoint, subject.digest, "spdx"), (e: unknown) => {
      assert.match((e as Error).message, new RegExp(`^oci-layout:.*@${liar.digest}: `));
      assert.match((e as Error).message, error);
      return true;
    });
  }
});
