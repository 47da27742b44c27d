// Authorization header parsing: Basic, Bearer, none and malformed values.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAuthorization } from "./credentials.ts";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

test("parseAuthorization", () => {
  const cases: [string | string[] | undefined, unknown][] = [
    [undefined, { kind: "none" }],
    ["", { kind: "none" }],
    [`Basic ${b64("alice:pw")}`, { kind: "basic", user: "alice", password: "pw" }],
    [`basic ${b64("alice:pw:with:colons")}`, { kind: "basic", user: "alice", password: "pw:with:colons" }],
    [`Basic ${b64("alice:")}`, { kind: "basic", user: "alice", password: "" }],
    [[`Basic ${b64("alice:pw")}`, "Bearer x"], { kind: "basic", user: "alice", password: "pw" }],
    ["Bearer abc.def.ghi", { kind: "bearer", token: "abc.def.ghi" }],
    [`Basic ${b64("alice")}`, { kind: "malformed", reason: "expected user:password" }],
    [`Basic ${b64(":pw")}`, { kind: "malformed", reason: "expected user:password" }],
    ["Basic !!!", { kind: "malformed", reason: "credentials are not base64" }],
    ["Basic", { kind: "malformed", reason: "expected a scheme and credentials" }],
    ["Basic a b", { kind: "malformed", reason: "expected a scheme and credentials" }],
    ['Bearer a"b', { kind: "malformed", reason: "bad token characters" }],
    ["Digest x", { kind: "malformed", reason: 'unsupported scheme "Digest"' }],
  ];
  for (const [header, want] of cases) {
    assert.deepEqual(parseAuthorization({ authorization: header }), want, JSON.stringify(header));
  }
});
