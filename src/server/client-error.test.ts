// Parser refusals: the status and message each kind of parser error is answered with, and the
// raw response being a complete HTTP/1.1 message with the registry's error JSON.
import assert from "node:assert/strict";
import { test } from "node:test";
import { rawErrorResponse, describeClientError, type ClientError } from "./client-error.ts";

const parserError = (code: string, reason?: string): ClientError =>
  Object.assign(new Error(`Parse Error: ${reason ?? ""}`), {
    code,
    ...(reason === undefined ? {} : { reason }),
  });

test("parser errors answer 400, headers over the limit 431, a timeout 408", () => {
  const cases: [ClientError, number, RegExp][] = [
    [
      parserError("HPE_INVALID_HEADER_TOKEN", "Invalid header value char"),
      400,
      /^Malformed request: invalid header value char$/,
    ],
    [
      parserError("HPE_INVALID_TRANSFER_ENCODING", "Transfer-Encoding can't be present with Content-Length"),
      400,
      /^Malformed request: Transfer-Encoding can't be present with Content-Length$/,
    ],
    [parserError("HPE_INVALID_METHOD"), 400, /^Malformed request: not valid HTTP\/1\.1$/],
    [parserError("HPE_HEADER_OVERFLOW", "Header overflow"), 431, /at most 16384 bytes$/],
    [parserError("ERR_HTTP_REQUEST_TIMEOUT"), 408, /did not arrive in time/],
  ];
  for (const [error, status, message] of cases) {
    const refusal = describeClientError(error, 16384);
    assert.equal(refusal.status, status, error.code);
    assert.match(refusal.message, message);
    assert.deepEqual(refusal.detail, { parser: error.code });
  }
});

test("the raw answer is one HTTP/1.1 response with the error JSON, closing the connection", () => {
  const raw = rawErrorResponse(describeClientError(parserError("HPE_HEADER_OVERFLOW"), 8192));
  const text = raw.toString("latin1");
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split).split("\r\n");
  const body = raw.subarray(split + 4);
  assert.equal(head[0], "HTTP/1.1 431 Request Header Fields Too Large");
  assert.ok(head.includes("Connection: close"));
  assert.ok(head.includes("Content-Type: application/json"));
  assert.ok(head.includes(`Content-Length: ${body.length}`));
  const json = JSON.parse(body.toString("utf8")) as {
    errors: { code: string; message: string; detail: unknown }[];
  };
  assert.equal(json.errors.length, 1);
  assert.equal(json.errors[0]?.code, "UNSUPPORTED");
  assert.match(json.errors[0]?.message ?? "", /at most 8192 bytes/);
  assert.deepEqual(json.errors[0]?.detail, { parser: "HPE_HEADER_OVERFLOW" });
});
