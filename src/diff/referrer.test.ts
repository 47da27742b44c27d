import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { parseManifest } from "../oci/index.ts";
import type { ImageDiff } from "./diff-images.ts";
import { DIFF_ARTIFACT_TYPE, DIFF_BASE_ANNOTATION, diffReferrer } from "./referrer.ts";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe("the diff referrer", () => {
  it("carries the diff as one blob, the newer image as subject and the older one's digest", () => {
    const diff: ImageDiff = {
      schemaVersion: 1,
      before: { name: "prod/web:1.1.0", digest: `sha256:${"a".repeat(64)}`, layers: 2 },
      after: { name: "prod/web:1.2.0", digest: `sha256:${"b".repeat(64)}`, layers: 3 },
      sameImage: false,
    };
    const subject = {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: diff.after.digest,
      size: 1234,
    };
    const r = diffReferrer(diff, subject, { created: new Date(0) });
    assert.equal(r.digest, sha(r.manifest));
    const manifest = parseManifest(r.manifest, r.mediaType);
    assert.equal(manifest.kind, "manifest");
    assert.equal(manifest.artifactType, DIFF_ARTIFACT_TYPE);
    assert.deepEqual(manifest.subject, subject);
    assert.equal(manifest.annotations?.[DIFF_BASE_ANNOTATION], diff.before.digest);
    const [config, body] = r.blobs;
    assert.equal(config?.bytes.toString(), "{}");
    assert.deepEqual(JSON.parse(body?.bytes.toString() ?? ""), diff);
    for (const blob of r.blobs) assert.equal(blob.digest, sha(blob.bytes));
    if (manifest.kind === "manifest") assert.equal(manifest.layers[0]?.digest, body?.digest);
    // The same diff and time give the same bytes.
    assert.equal(diffReferrer(diff, subject, { created: new Date(0) }).digest, r.digest);
  });
});
