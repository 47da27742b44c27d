// Hostile HTTP over a real loopback socket: requests no HTTP client would send — broken framing,
// malformed headers, oversized headers, ambiguous Host, methods no endpoint serves — answered in
// the error JSON with the right status, the connection closed where its framing can no longer be
// trusted, the server still answering, and nothing stored. Then an oversized manifest whose
// client keeps sending, which must read its 413 every time.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf } from "../../src/oci/index.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { rawExchange, type RawResponse } from "../helpers/raw-http.ts";

let strata: InProcess;
before(async () => {
  strata = await startInProcess({ listen: true });
});
after(async () => {
  await strata.stop();
});

const H = "Host: strata.test\r\n";
const MANIFEST_TYPE = "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n";
const blob = Buffer.from("hostile http blob payload ".repeat(4));
const manifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: digestOf(blob),
    size: blob.length,
  },
  layers: [],
});
/** A complete, valid request hidden in a body, as a smuggling attempt would hide it. */
const smuggled = `PUT /v2/h/smuggled/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}Content-Length: ${manifest.length}\r\n\r\n${manifest}`;
const ping = `GET /v2/ HTTP/1.1\r\n${H}\r\n`;

interface Want {
  readonly status: number;
  readonly code: string;
  readonly allow?: string;
}

interface Case {
  readonly name: string;
  readonly request: string;
  /** The answers, in order; a 200 last means the connection was kept and answered the ping. */
  readonly want: readonly (Want | 200)[];
  /** The server closes the connection after the answers. */
  readonly closes: boolean;
}

const cases: Case[] = [
  {
    name: "a NUL in a header value",
    request: `GET /v2/ HTTP/1.1\r\n${H}X-Trace: a\0b\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a space in a header name",
    request: `GET /v2/ HTTP/1.1\r\n${H}X Trace: 1\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a NUL in the request target",
    request: `GET /v2/h/r/manifests/a\0b HTTP/1.1\r\n${H}\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a garbage request line",
    request: `HELLO THERE\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "an unknown HTTP version",
    request: `GET /v2/ HTTP/7.1\r\n${H}\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a chunk size that is not hex",
    request: `POST /v2/h/r/blobs/uploads/?digest=${digestOf(blob)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n${blob}\r\n0\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a bad chunk size after a good chunk of an upload",
    request: `POST /v2/h/r/blobs/uploads/?digest=${digestOf(blob)} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10\r\n${blob.subarray(0, 16)}\r\n-5\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a chunk longer than its size",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}Transfer-Encoding: chunked\r\n\r\n2\r\n${manifest}\r\n0\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a negative Content-Length",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}Content-Length: -1\r\n\r\n${manifest}`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "an overflowing Content-Length",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}Content-Length: 99999999999999999999999\r\n\r\n${manifest}`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a Content-Length that is not a number",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}Content-Length: 1 2\r\n\r\n${manifest}`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "Content-Length together with Transfer-Encoding, hiding a request",
    request: `POST /v2/h/r/blobs/uploads/ HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "two different Content-Lengths, hiding a request",
    request: `POST /v2/h/r/blobs/uploads/ HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    // The first request is framed by its Content-Length: a truncated manifest, refused; the rest
    // of the bytes are a request line no parser accepts.
    name: "a Content-Length smaller than the manifest sent",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}Content-Length: 40\r\n\r\n${manifest}`,
    want: [
      { status: 400, code: "MANIFEST_INVALID" },
      { status: 400, code: "UNSUPPORTED" },
    ],
    closes: true,
  },
  {
    name: "a Content-Length smaller than the blob sent",
    request: `POST /v2/h/r/blobs/uploads/?digest=${digestOf(blob)} HTTP/1.1\r\n${H}Content-Length: 20\r\n\r\n${blob}`,
    want: [
      { status: 400, code: "DIGEST_INVALID" },
      { status: 400, code: "UNSUPPORTED" },
    ],
    closes: true,
  },
  {
    name: "a malformed request pipelined after a good one",
    request: `${ping}GET /v2/ HTTP/1.1\r\n${H}X-Trace: a\0b\r\n\r\n`,
    want: [200, { status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a path with an invalid percent-encoding",
    request: `GET /v2/h/%zz/tags/list HTTP/1.1\r\n${H}\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a Content-Type that is no media type",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}Content-Type: a b/c\r\nContent-Length: ${manifest.length}\r\n\r\n${manifest}`,
    want: [{ status: 415, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a gallery API path with an invalid percent-encoding, in the gallery API's codes",
    request: `GET /api/v1/galleries/%zz HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 400, code: "INVALID" }, 200],
    closes: false,
  },
  {
    name: "headers over the limit",
    request: `GET /v2/ HTTP/1.1\r\n${H}X-Padding: ${"a".repeat(64 * 1024)}\r\n\r\n`,
    want: [{ status: 431, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "a URL over the limit",
    request: `GET /v2/h/${"r".repeat(64 * 1024)}/tags/list HTTP/1.1\r\n${H}\r\n`,
    want: [{ status: 431, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "two Host headers",
    request: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}Host: other.test\r\n${MANIFEST_TYPE}Content-Length: ${manifest.length}\r\n\r\n${manifest}`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "two Host headers in different case",
    request: `GET /v2/_catalog HTTP/1.1\r\nhost: strata.test\r\nHOST: other.test\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "no Host header",
    request: `GET /v2/_catalog HTTP/1.1\r\n\r\n`,
    want: [{ status: 400, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    name: "TRACE on the base endpoint",
    request: `TRACE /v2/ HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 405, code: "UNSUPPORTED", allow: "GET, HEAD" }, 200],
    closes: false,
  },
  {
    name: "OPTIONS on a manifest",
    request: `OPTIONS /v2/h/r/manifests/latest HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 405, code: "UNSUPPORTED", allow: "GET, HEAD, PUT, DELETE" }, 200],
    closes: false,
  },
  {
    name: "PROPFIND with a body on the upload endpoint",
    request: `PROPFIND /v2/h/r/blobs/uploads/ HTTP/1.1\r\n${H}Content-Length: ${blob.length}\r\n\r\n${blob}`,
    want: [{ status: 405, code: "UNSUPPORTED", allow: "POST" }],
    closes: true,
  },
  {
    name: "POST on the token endpoint",
    request: `POST /token HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\n${ping}`,
    want: [{ status: 405, code: "UNSUPPORTED", allow: "GET" }, 200],
    closes: false,
  },
  {
    name: "TRACE on the metrics endpoint",
    request: `TRACE /metrics HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 405, code: "UNSUPPORTED", allow: "GET" }, 200],
    closes: false,
  },
  {
    name: "CONNECT, as to a proxy",
    request: `CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n`,
    want: [{ status: 501, code: "UNSUPPORTED" }],
    closes: true,
  },
  {
    // A GET of such a path is the web console's (a client route answered with index.html).
    name: "a path no endpoint serves",
    request: `DELETE /nowhere HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 404, code: "UNSUPPORTED" }, 200],
    closes: false,
  },
  {
    name: "PROPFIND on the gallery list, in the gallery API's codes",
    request: `PROPFIND /api/v1/galleries HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 405, code: "METHOD_NOT_ALLOWED", allow: "GET, POST" }, 200],
    closes: false,
  },
  {
    name: "DELETE on the gallery API's whoami",
    request: `DELETE /api/v1/whoami HTTP/1.1\r\n${H}\r\n${ping}`,
    want: [{ status: 405, code: "METHOD_NOT_ALLOWED", allow: "GET" }, 200],
    closes: false,
  },
];

function errorsOf(res: RawResponse): { code: string; message: string }[] {
  assert.match(res.headers["content-type"] ?? "", /^application\/json/);
  const body = JSON.parse(res.body.toString("utf8")) as { errors?: unknown };
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, res.body.toString("utf8"));
  for (const e of body.errors as { code?: unknown; message?: unknown }[]) {
    assert.equal(typeof e.code, "string");
    assert.match(e.code as string, /^[A-Z_]+$/);
    assert.equal(typeof e.message, "string");
    assert.ok((e.message as string).length > 0);
  }
  return body.errors as { code: string; message: string }[];
}

async function files(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

async function assertNothingStored(): Promise<void> {
  const meta = strata.server.meta;
  assert.deepEqual(await meta.repositories.list({}), [], "no repository");
  assert.equal(await meta.uploads.count(), 0, "no upload session");
  const data = join(strata.dataDir, "data");
  assert.deepEqual(await files(join(data, "blobs")), [], "no blob in the pool");
  assert.deepEqual(await files(join(data, "uploads")), [], "no upload bytes");
  const catalog = await fetch(`${strata.url}/v2/_catalog`);
  assert.deepEqual(await catalog.json(), { repositories: [] });
}

describe("hostile HTTP before routing", () => {
  for (const c of cases) {
    it(`answers ${c.name} in JSON and stores nothing`, async () => {
      const exchange = await rawExchange(strata.url, c.request, { expect: c.want.length, idleMs: 500 });
      const statuses = exchange.responses.map((r) => r.status);
      assert.deepEqual(
        statuses,
        c.want.map((w) => (w === 200 ? 200 : w.status)),
        exchange.responses.map((r) => r.body.toString("utf8")).join("\n"),
      );
      c.want.forEach((want, i) => {
        const res = exchange.responses[i];
        if (want === 200 || res === undefined) return;
        assert.equal(errorsOf(res)[0]?.code, want.code);
        assert.equal(res.headers.allow, want.allow);
        if (c.closes && i === c.want.length - 1) assert.equal(res.headers.connection, "close");
      });
      assert.equal(exchange.closed, c.closes, "the connection is closed when its framing is untrusted");
      const next = await fetch(`${strata.url}/v2/`);
      assert.equal(next.status, 200, "the server still answers");
      await assertNothingStored();
    });
  }
});

describe("the server's log", () => {
  it("has no error for any hostile request: none is a server failure", () => {
    assert.deepEqual(strata.errors(), []);
  });
});

describe("an oversized manifest while the client is still sending", () => {
  const size = 5 * 1024 * 1024;
  const rounds = 8;
  it(`answers 413 in JSON ${rounds} times out of ${rounds}, with and without Content-Length`, async () => {
    for (let round = 0; round < rounds; round++) {
      const framing =
        round % 2 === 0
          ? `Content-Length: ${size}\r\n\r\n`
          : `Transfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n`;
      const head = `PUT /v2/h/big/manifests/latest HTTP/1.1\r\n${H}${MANIFEST_TYPE}${framing}`;
      // The client writes its whole body before it reads anything.
      const exchange = await rawExchange(strata.url, head, { body: { size, readAfterWrite: true } });
      assert.equal(exchange.writeError, undefined, `round ${round}: the client's writes failed`);
      const res = exchange.responses[0];
      assert.equal(res?.status, 413, `round ${round}`);
      assert.equal(errorsOf(res)[0]?.code, "MANIFEST_INVALID");
    }
    assert.equal((await fetch(`${strata.url}/v2/`)).status, 200);
    await assertNothingStored();
  });
});

describe("refusals before the body is read, to a client that sends its whole body first", () => {
  const size = 5 * 1024 * 1024;
  const refusals: { name: string; head: string; status: number }[] = [
    {
      name: "Content-Length with Transfer-Encoding",
      head: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}Content-Length: ${size}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      status: 400,
    },
    {
      name: "two Host headers",
      head: `PUT /v2/h/r/manifests/latest HTTP/1.1\r\n${H}Host: other.test\r\nContent-Length: ${size}\r\n\r\n`,
      status: 400,
    },
    {
      name: "PROPFIND",
      head: `PROPFIND /v2/h/r/manifests/latest HTTP/1.1\r\n${H}Content-Length: ${size}\r\n\r\n`,
      status: 405,
    },
    {
      name: "an invalid percent-encoding",
      head: `PUT /v2/h/%zz/manifests/latest HTTP/1.1\r\n${H}Content-Length: ${size}\r\n\r\n`,
      status: 400,
    },
  ];
  for (const r of refusals) {
    it(`answers ${r.name} with ${r.status} the client reads`, async () => {
      const exchange = await rawExchange(strata.url, r.head, { body: { size, readAfterWrite: true } });
      assert.equal(exchange.writeError, undefined, "the client's writes failed");
      const res = exchange.responses[0];
      assert.equal(res?.status, r.status);
      errorsOf(res);
      assert.equal(exchange.closed, true);
      await assertNothingStored();
    });
  }
});
