// Sessions of the web console: expiry on the server's clock, the cookie's flags, cookie parsing
// and the CSRF comparison.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSessionStore, csrfMatches, readCookie, sessionCookie } from "./sessions.ts";

describe("sessions", () => {
  it("expire after their lifetime and are gone once deleted", () => {
    let now = 1_000_000;
    const store = createSessionStore({ ttlMs: 60_000, now: () => now });
    const a = store.create("alice");
    const b = store.create("bob");
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.csrfToken, a.id);
    assert.equal(store.get(a.id)?.user, "alice");
    now += 59_999;
    assert.equal(store.get(a.id)?.user, "alice");
    now += 1;
    assert.equal(store.get(a.id), undefined);
    store.delete(b.id);
    assert.equal(store.get(b.id), undefined);
    assert.equal(store.get(undefined), undefined);
    assert.equal(store.get(""), undefined);
  });

  it("set a cookie that is HttpOnly, SameSite=Strict, expiring, and Secure under TLS", () => {
    assert.equal(
      sessionCookie("abc", { maxAgeSeconds: 43200, secure: false }),
      "strata_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200",
    );
    assert.match(sessionCookie("abc", { maxAgeSeconds: 43200, secure: true }), /; Secure$/);
  });

  it("read one cookie among others", () => {
    assert.equal(readCookie("a=1; strata_session=xyz; b=2", "strata_session"), "xyz");
    assert.equal(readCookie(["a=1", "strata_session=q"], "strata_session"), "q");
    assert.equal(readCookie("strata_sessionx=1; other", "strata_session"), undefined);
    assert.equal(readCookie(undefined, "strata_session"), undefined);
  });

  it("compare CSRF tokens exactly", () => {
    const session = createSessionStore().create("carol");
    assert.equal(csrfMatches(session, session.csrfToken), true);
    assert.equal(csrfMatches(session, `${session.csrfToken}x`), false);
    assert.equal(csrfMatches(session, session.csrfToken.slice(1)), false);
    assert.equal(csrfMatches(session, undefined), false);
    assert.equal(csrfMatches(session, [session.csrfToken, session.csrfToken]), false);
  });
});
