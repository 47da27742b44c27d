import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { signBody } from "./webhooks.ts";

describe("webhook signatures", () => {
  it("are sha256= and the hex HMAC-SHA256 of the exact body", () => {
    const body = '{"type":"version.published"}';
    assert.equal(signBody("k", body), `sha256=${createHmac("sha256", "k").update(body).digest("hex")}`);
    // A known vector (RFC 4231 test case 2).
    assert.equal(
      signBody("Jefe", "what do ya want for nothing?"),
      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
  it("change with the body and with the secret", () => {
    assert.notEqual(signBody("k", "a"), signBody("k", "a "));
    assert.notEqual(signBody("k", "a"), signBody("l", "a"));
  });
});
