// The OCI Distribution API end to end, in process through inject(): every endpoint, the
// headers clients rely on, and the spec's error codes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { imageManifest } from "../helpers/manifests.ts";

let strata: InProcess;
before(async () => {
  strata = await startInProcess();
});
after(async () => {
  await strata.stop();
});

type InjectMethod = "GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE";
async function call(
  method: InjectMethod,
  url: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
) {
  const res = await strata.server.app.inject({
    method,
    url,
    headers,
    ...(body === undefined ? {} : { payload: body }),
  });
  return res;
}

function errorCode(res: { body: string }): string | undefined {
  return (JSON.parse(res.body) as { errors: { code: string }[] }).errors[0]?.code;
}

async function pushBlob(repo: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  const res = await call("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, bytes, {
    "content-type": "application/octet-stream",
  });
  assert.equal(res.statusCode, 201, res.body);
  return digest;
}

async function pushImage(repo: string, tag: string, extra: Record<string, unknown> = {}) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
      n: randomBytes(4).toString("hex"),
    }),
  );
  const layer = randomBytes(1000);
  await pushBlob(repo, config);
  await pushBlob(repo, layer);
  const manifest = imageManifest(config, [layer], extra);
  const res = await call("PUT", `/v2/${repo}/manifests/${tag}`, manifest, {
    "content-type": MediaType.ImageManifest,
  });
  assert.equal(res.statusCode, 201, res.body);
  return { manifest, digest: digestOf(manifest), config, layer, res };
}

describe("base and blobs", () => {
  it("answers the ping with the API version header", async () => {
    const res = await call("GET", "/v2/");
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
  });

  it("stores a monolithic blob and serves it whole, by HEAD and by range", async () => {
    const bytes = randomBytes(5000);
    const digest = await pushBlob("blobs/a", bytes);
    const head = await call("HEAD", `/v2/blobs/a/blobs/${digest}`);
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers["content-length"], "5000");
    assert.equal(head.headers["docker-content-digest"], digest);
    assert.equal(head.body, "");
    const get = await call("GET", `/v2/blobs/a/blobs/${digest}`);
    assert.deepEqual(get.rawPayload, bytes);
    const range = await call("GET", `/v2/blobs/a/blobs/${digest}`, undefined, { range: "bytes=10-19" });
    assert.equal(range.statusCode, 206);
    assert.equal(range.headers["content-range"], "bytes 10-19/5000");
    assert.deepEqual(range.rawPayload, bytes.subarray(10, 20));
    const suffix = await call("GET", `/v2/blobs/a/blobs/${digest}`, undefined, { range: "bytes=-5" });
    assert.deepEqual(suffix.rawPayload, bytes.subarray(4995));
    const bad = await call("GET", `/v2/blobs/a/blobs/${digest}`, undefined, { range: "bytes=6000-7000" });
    assert.equal(bad.statusCode, 416);
    assert.equal(bad.headers["content-range"], "bytes */5000");
  });

  it("answers BLOB_UNKNOWN for a blob of another repository", async () => {
    const digest = await pushBlob("blobs/b", randomBytes(10));
    const res = await call("GET", `/v2/blobs/other/blobs/${digest}`);
    assert.equal(res.statusCode, 404);
    assert.equal(errorCode(res), "BLOB_UNKNOWN");
  });

  it("refuses a monolithic blob whose digest does not match and stores nothing", async () => {
    const bytes = randomBytes(100);
    const wrong = digestOf(randomBytes(100));
    const res = await call("POST", `/v2/blobs/c/blobs/uploads/?digest=${wrong}`, bytes, {
      "content-type": "application/octet-stream",
    });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), "DIGEST_INVALID");
    assert.equal((await call("HEAD", `/v2/blobs/c/blobs/${wrong}`)).statusCode, 404);
    assert.equal((await call("HEAD", `/v2/blobs/c/blobs/${digestOf(bytes)}`)).statusCode, 404);
  });

  it("deletes a blob from a repository", async () => {
    const digest = await pushBlob("blobs/d", randomBytes(10));
    assert.equal((await call("DELETE", `/v2/blobs/d/blobs/${digest}`)).statusCode, 202);
    assert.equal((await call("HEAD", `/v2/blobs/d/blobs/${digest}`)).statusCode, 404);
    assert.equal(errorCode(await call("DELETE", `/v2/blobs/d/blobs/${digest}`)), "BLOB_UNKNOWN");
  });
});

describe("uploads", () => {
  it("runs POST then PUT with the body", async () => {
    const bytes = randomBytes(3000);
    const start = await call("POST", "/v2/up/a/blobs/uploads/");
    assert.equal(start.statusCode, 202);
    const location = String(start.headers.location);
    assert.match(location, /^\/v2\/up\/a\/blobs\/uploads\/[A-Za-z0-9_-]+$/);
    assert.ok(start.headers["docker-upload-uuid"]);
    const put = await call("PUT", `${location}?digest=${digestOf(bytes)}`, bytes, {
      "content-type": "application/octet-stream",
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal(put.headers.location, `/v2/up/a/blobs/${digestOf(bytes)}`);
    assert.deepEqual((await call("GET", String(put.headers.location))).rawPayload, bytes);
  });

  it("takes chunks in order, answers 416 out of order, reports status and closes", async () => {
    const bytes = randomBytes(3000);
    const start = await call("POST", "/v2/up/b/blobs/uploads/", undefined, { "content-length": "0" });
    let location = String(start.headers.location);
    const first = await call("PATCH", location, bytes.subarray(0, 1000), {
      "content-type": "application/octet-stream",
      "content-range": "0-999",
    });
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.headers.range, "0-999");
    location = String(first.headers.location);
    const skip = await call("PATCH", location, bytes.subarray(2000), {
      "content-type": "application/octet-stream",
      "content-range": "2000-2999",
    });
    assert.equal(skip.statusCode, 416);
    const status = await call("GET", location);
    assert.equal(status.statusCode, 204);
    assert.equal(status.headers.range, "0-999");
    const second = await call("PATCH", location, bytes.subarray(1000, 2000), {
      "content-type": "application/octet-stream",
      "content-range": "1000-1999",
    });
    assert.equal(second.headers.range, "0-1999");
    const put = await call("PUT", `${location}?digest=${digestOf(bytes)}`, bytes.subarray(2000), {
      "content-type": "application/octet-stream",
      "content-range": "2000-2999",
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.deepEqual((await call("GET", String(put.headers.location))).rawPayload, bytes);
    assert.equal((await call("GET", location)).statusCode, 404);
  });

  it("takes a streamed PATCH without Content-Range and a PUT without body", async () => {
    const bytes = randomBytes(4096);
    const start = await call("POST", "/v2/up/c/blobs/uploads/");
    const location = String(start.headers.location);
    const patch = await call("PATCH", location, bytes, { "content-type": "application/octet-stream" });
    assert.equal(patch.statusCode, 202);
    assert.equal(patch.headers.range, "0-4095");
    const put = await call("PUT", `${location}?digest=${digestOf(bytes)}`);
    assert.equal(put.statusCode, 201, put.body);
  });

  it("ends a session whose digest does not match and keeps nothing", async () => {
    const bytes = randomBytes(100);
    const location = String((await call("POST", "/v2/up/d/blobs/uploads/")).headers.location);
    const wrong = digestOf(Buffer.from("other"));
    const put = await call("PUT", `${location}?digest=${wrong}`, bytes, {
      "content-type": "application/octet-stream",
    });
    assert.equal(put.statusCode, 400);
    assert.equal(errorCode(put), "DIGEST_INVALID");
    assert.equal((await call("HEAD", `/v2/up/d/blobs/${digestOf(bytes)}`)).statusCode, 404);
  });

  it("cancels a session", async () => {
    const location = String((await call("POST", "/v2/up/e/blobs/uploads/")).headers.location);
    assert.equal((await call("DELETE", location)).statusCode, 204);
    const again = await call("GET", location);
    assert.equal(again.statusCode, 404);
    assert.equal(errorCode(again), "BLOB_UPLOAD_UNKNOWN");
  });

  it("refuses a PUT without digest and an unknown session", async () => {
    const location = String((await call("POST", "/v2/up/f/blobs/uploads/")).headers.location);
    assert.equal(errorCode(await call("PUT", location)), "DIGEST_INVALID");
    const unknown = await call("PATCH", "/v2/up/f/blobs/uploads/nope", Buffer.from("x"), {
      "content-type": "application/octet-stream",
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorCode(unknown), "BLOB_UPLOAD_UNKNOWN");
  });

  it("does not let one repository use another repository's session", async () => {
    const location = String((await call("POST", "/v2/up/g/blobs/uploads/")).headers.location);
    const id = location.split("/").pop();
    assert.equal((await call("GET", `/v2/up/other/blobs/uploads/${id}`)).statusCode, 404);
  });

  it("mounts a blob from another repository, and falls back to an upload when it cannot", async () => {
    const digest = await pushBlob("mount/src", randomBytes(50));
    const mounted = await call("POST", `/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`);
    assert.equal(mounted.statusCode, 201);
    assert.equal(mounted.headers["docker-content-digest"], digest);
    assert.equal((await call("HEAD", `/v2/mount/dst/blobs/${digest}`)).statusCode, 200);
    const missing = digestOf(randomBytes(5));
    const fallback = await call("POST", `/v2/mount/dst/blobs/uploads/?mount=${missing}&from=mount/src`);
    assert.equal(fallback.statusCode, 202);
    assert.ok(fallback.headers.location);
  });
});

describe("manifests", () => {
  it("stores the pushed bytes exactly and serves them by tag and digest", async () => {
    const { manifest, digest, res } = await pushImage("man/a", "v1");
    assert.equal(res.headers["docker-content-digest"], digest);
    assert.equal(res.headers.location, `/v2/man/a/manifests/${digest}`);
    for (const ref of ["v1", digest]) {
      const get = await call("GET", `/v2/man/a/manifests/${ref}`, undefined, {
        accept: MediaType.ImageManifest,
      });
      assert.equal(get.statusCode, 200);
      assert.deepEqual(get.rawPayload, manifest);
      assert.equal(get.headers["content-type"], MediaType.ImageManifest);
      assert.equal(get.headers["docker-content-digest"], digest);
      const head = await call("HEAD", `/v2/man/a/manifests/${ref}`);
      assert.equal(head.headers["content-length"], String(manifest.length));
    }
  });

  it("keeps odd but valid JSON formatting byte for byte", async () => {
    const config = Buffer.from("{}");
    await pushBlob("man/b", config);
    const text = `{\n  "schemaVersion" : 2,"mediaType":"${MediaType.ImageManifest}",\n"config":{"mediaType":"${MediaType.ImageConfig}","digest":"${digestOf(config)}","size":2},"layers":[] }\n`;
    const put = await call("PUT", "/v2/man/b/manifests/odd", text, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal((await call("GET", "/v2/man/b/manifests/odd")).body, text);
  });

  it("refuses manifests naming unknown blobs and stores nothing", async () => {
    const manifest = imageManifest(randomBytes(10), [randomBytes(10)]);
    const put = await call("PUT", "/v2/man/c/manifests/v1", manifest, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(put.statusCode, 400);
    assert.equal(errorCode(put), "MANIFEST_BLOB_UNKNOWN");
    assert.equal((await call("GET", "/v2/man/c/manifests/v1")).statusCode, 404);
    assert.equal((await call("GET", `/v2/man/c/manifests/${digestOf(manifest)}`)).statusCode, 404);
  });

  it("answers 413 above the manifest size limit", async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const put = await call("PUT", "/v2/man/d/manifests/big", big, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(put.statusCode, 413);
    assert.equal(errorCode(put), "MANIFEST_INVALID");
  });

  it("refuses invalid JSON, a digest mismatch and a bad reference", async () => {
    const bad = await call("PUT", "/v2/man/e/manifests/v1", "{not json", {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(errorCode(bad), "MANIFEST_INVALID");
    const { manifest } = await pushImage("man/e", "v0");
    const wrong = digestOf(Buffer.from("x"));
    const mismatch = await call("PUT", `/v2/man/e/manifests/${wrong}`, manifest, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(errorCode(mismatch), "DIGEST_INVALID");
    const badRef = await call("PUT", "/v2/man/e/manifests/-bad", manifest, {
      "content-type": MediaType.ImageManifest,
    });
    assert.equal(badRef.statusCode, 400);
    const tags = JSON.parse((await call("GET", "/v2/man/e/tags/list")).body) as { tags: string[] };
    assert.deepEqual(tags.tags, ["v0"]);
  });

  it("stores an index whose children exist and refuses one whose children do not", async () => {
    const a = await pushImage("man/f", "a");
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageIndex,
        manifests: [
          {
            mediaType: MediaType.ImageManifest,
            digest: a.digest,
            size: a.manifest.length,
            platform: { architecture: "amd64", os: "linux" },
          },
        ],
      }),
    );
    const put = await call("PUT", "/v2/man/f/manifests/multi", index, {
      "content-type": MediaType.ImageIndex,
    });
    assert.equal(put.statusCode, 201, put.body);
    const orphan = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageIndex,
        manifests: [{ mediaType: MediaType.ImageManifest, digest: digestOf(Buffer.from("nope")), size: 4 }],
      }),
    );
    const refused = await call("PUT", "/v2/man/f/manifests/orphan", orphan, {
      "content-type": MediaType.ImageIndex,
    });
    assert.equal(errorCode(refused), "MANIFEST_BLOB_UNKNOWN");
  });

  it("deletes a tag, then the manifest by digest", async () => {
    const { digest } = await pushImage("man/g", "v1");
    await pushImage("man/g", "v2");
    assert.equal((await call("DELETE", "/v2/man/g/manifests/v1")).statusCode, 202);
    assert.equal((await call("GET", "/v2/man/g/manifests/v1")).statusCode, 404);
    assert.equal((await call("GET", `/v2/man/g/manifests/${digest}`)).statusCode, 200);
    assert.equal((await call("DELETE", `/v2/man/g/manifests/${digest}`)).statusCode, 202);
    const gone = await call("GET", `/v2/man/g/manifests/${digest}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(errorCode(gone), "MANIFEST_UNKNOWN");
  });
});

describe("listings", () => {
  it("lists tags in order with n, last and a Link header", async () => {
    for (const tag of ["c", "a", "b", "d"]) await pushImage("list/a", tag);
    const all = JSON.parse((await call("GET", "/v2/list/a/tags/list")).body) as {
      name: string;
      tags: string[];
    };
    assert.deepEqual(all, { name: "list/a", tags: ["a", "b", "c", "d"] });
    const page = await call("GET", "/v2/list/a/tags/list?n=2");
    assert.deepEqual((JSON.parse(page.body) as { tags: string[] }).tags, ["a", "b"]);
    assert.equal(page.headers.link, '</v2/list/a/tags/list?n=2&last=b>; rel="next"');
    const next = await call("GET", "/v2/list/a/tags/list?n=2&last=b");
    assert.deepEqual((JSON.parse(next.body) as { tags: string[] }).tags, ["c", "d"]);
    assert.equal(next.headers.link, undefined);
    const zero = await call("GET", "/v2/list/a/tags/list?n=0");
    assert.deepEqual((JSON.parse(zero.body) as { tags: string[] }).tags, []);
    assert.equal(zero.headers.link, undefined);
    assert.equal((await call("GET", "/v2/list/a/tags/list?n=abc")).statusCode, 400);
    const unknown = await call("GET", "/v2/list/none/tags/list");
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorCode(unknown), "NAME_UNKNOWN");
  });

  it("pages through the catalog", async () => {
    await pushImage("cat/x", "v1");
    await pushImage("cat/y", "v1");
    const all = JSON.parse((await call("GET", "/v2/_catalog")).body) as { repositories: string[] };
    assert.ok(all.repositories.includes("cat/x") && all.repositories.includes("cat/y"));
    const sorted = [...all.repositories].sort();
    assert.deepEqual(all.repositories, sorted);
    const first = await call("GET", "/v2/_catalog?n=1");
    assert.equal((JSON.parse(first.body) as { repositories: string[] }).repositories.length, 1);
    assert.match(String(first.headers.link), /^<\/v2\/_catalog\?n=1&last=[^>]+>; rel="next"$/);
  });

  it("lists referrers with the artifactType filter and answers OCI-Subject", async () => {
    const subject = await pushImage("ref/a", "v1");
    const subjectDescriptor = {
      mediaType: MediaType.ImageManifest,
      digest: subject.digest,
      size: subject.manifest.length,
    };
    const sig = await pushImage("ref/a", "sig", {
      artifactType: "application/vnd.example.sig",
      subject: subjectDescriptor,
      annotations: { "org.example": "1" },
    });
    assert.equal(sig.res.headers["oci-subject"], subject.digest);
    await pushImage("ref/a", "sbom", {
      artifactType: "application/vnd.example.sbom",
      subject: subjectDescriptor,
    });
    const all = await call("GET", `/v2/ref/a/referrers/${subject.digest}`);
    assert.equal(all.statusCode, 200);
    assert.equal(all.headers["content-type"], MediaType.ImageIndex);
    const index = JSON.parse(all.body) as {
      manifests: { digest: string; artifactType: string; annotations?: Record<string, string> }[];
    };
    assert.equal(index.manifests.length, 2);
    const filtered = await call(
      "GET",
      `/v2/ref/a/referrers/${subject.digest}?artifactType=application/vnd.example.sig`,
    );
    assert.equal(filtered.headers["oci-filters-applied"], "artifactType");
    const only = JSON.parse(filtered.body) as typeof index;
    assert.deepEqual(
      only.manifests.map((m) => m.digest),
      [sig.digest],
    );
    assert.deepEqual(only.manifests[0]?.annotations, { "org.example": "1" });
    const none = await call("GET", `/v2/ref/a/referrers/${digestOf(Buffer.from("nothing"))}`);
    assert.equal(none.statusCode, 200);
    assert.deepEqual((JSON.parse(none.body) as typeof index).manifests, []);
    assert.equal((await call("GET", "/v2/ref/a/referrers/sha256:bad")).statusCode, 400);
  });
});

describe("hostile requests", () => {
  const digests = [
    "sha256:abc",
    "sha256:" + "G".repeat(64),
    "md5:" + "a".repeat(32),
    "sha256" + "a".repeat(64),
    "sha256:" + "A".repeat(64),
  ];
  for (const digest of digests) {
    it(`refuses the malformed digest ${digest.slice(0, 16)}… with DIGEST_INVALID`, async () => {
      const res = await call("GET", `/v2/h/a/blobs/${digest}`);
      assert.equal(res.statusCode, 400);
      assert.equal(errorCode(res), "DIGEST_INVALID");
    });
  }

  it("answers 405 for an unsupported method and a JSON error for an unknown path", async () => {
    const res = await call("PUT", "/v2/h/a/tags/list");
    assert.equal(res.statusCode, 405);
    assert.equal(errorCode(res), "UNSUPPORTED");
    const unknown = await call("GET", "/v2/h/a/nothing/here");
    assert.equal(unknown.statusCode, 404);
  });

  it("refuses a Content-Length that lies about a monolithic blob and stores nothing", async () => {
    const bytes = randomBytes(100);
    const digest = digestOf(bytes);
    const res = await strata.server.app.inject({
      method: "POST",
      url: `/v2/h/b/blobs/uploads/?digest=${digest}`,
      headers: { "content-type": "application/octet-stream", "content-length": "50" },
      payload: bytes.subarray(0, 50),
    });
    assert.equal(res.statusCode, 400);
    assert.equal((await call("HEAD", `/v2/h/b/blobs/${digest}`)).statusCode, 404);
  });

  it("refuses malformed and lying chunk headers and leaves the upload where it was", async () => {
    const location = String((await call("POST", "/v2/h/c/blobs/uploads/")).headers.location);
    const first = await call("PATCH", location, randomBytes(100), { "content-range": "0-99" });
    assert.equal(first.statusCode, 202);
    const cases: { headers: Record<string, string>; status: number; code: string }[] = [
      { headers: { "content-range": "abc" }, status: 416, code: "BLOB_UPLOAD_INVALID" },
      { headers: { "content-range": "150-100" }, status: 416, code: "BLOB_UPLOAD_INVALID" },
      { headers: { "content-range": "0-9" }, status: 416, code: "BLOB_UPLOAD_INVALID" },
      { headers: { "content-range": "100-149", "content-length": "10" }, status: 400, code: "SIZE_INVALID" },
    ];
    for (const c of cases) {
      const res = await strata.server.app.inject({
        method: "PATCH",
        url: location,
        headers: c.headers,
        payload: randomBytes(Number(c.headers["content-length"] ?? 50)),
      });
      assert.equal(res.statusCode, c.status, JSON.stringify(c.headers));
      assert.equal(errorCode(res), c.code);
      const status = await call("GET", location);
      assert.equal(status.statusCode, 204);
      assert.equal(status.headers.range, "0-99", "nothing was appended");
    }
  });

  it("refuses a manifest whose Content-Type contradicts its mediaType and stores nothing", async () => {
    const config = Buffer.from("{}");
    await pushBlob("h/d", config);
    const manifest = imageManifest(config, []);
    const res = await call("PUT", "/v2/h/d/manifests/v1", manifest, { "content-type": MediaType.ImageIndex });
    assert.equal(res.statusCode, 400);
    assert.equal(errorCode(res), "MANIFEST_INVALID");
    assert.equal((await call("GET", "/v2/h/d/manifests/v1")).statusCode, 404);
  });

  it("caps a huge page size and still answers", async () => {
    await pushImage("h/e", "only");
    const res = await call("GET", "/v2/h/e/tags/list?n=999999999");
    assert.equal(res.statusCode, 200);
    assert.deepEqual((JSON.parse(res.body) as { tags: string[] }).tags, ["only"]);
    assert.equal((await call("GET", "/v2/h/e/tags/list?n=-1")).statusCode, 400);
  });
});
