// The Basic credential checker: successes are remembered for a while, failures never, the same
// credentials checked concurrently cost one verification, and unknown users still cost one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createPasswordChecker } from "./password-checker.ts";
import { hashPassword, verifyPassword } from "./password.ts";

async function setup(maxEntries = 16) {
  const users = {
    alice: { password: await hashPassword("pw-a", { logN: 10 }) },
    bob: { password: await hashPassword("pw-b", { logN: 10 }) },
  };
  const clock = { now: 1_000_000 };
  const calls: string[] = [];
  const check = await createPasswordChecker(users, {
    ttlMs: 60_000,
    maxEntries,
    now: () => clock.now,
    verify: (password, hash) => {
      calls.push(password);
      return verifyPassword(password, hash);
    },
  });
  return { check, clock, calls };
}

test("a success is remembered until its time is up", async () => {
  const { check, clock, calls } = await setup();
  assert.equal(await check("alice", "pw-a"), true);
  assert.equal(await check("alice", "pw-a"), true);
  assert.equal(calls.length, 1);
  clock.now += 61_000;
  assert.equal(await check("alice", "pw-a"), true);
  assert.equal(calls.length, 2);
});

test("failures are checked every time and do not unlock other passwords", async () => {
  const { check, calls } = await setup();
  assert.equal(await check("alice", "pw-a"), true);
  assert.equal(await check("alice", "wrong"), false);
  assert.equal(await check("alice", "wrong"), false);
  assert.equal(await check("bob", "pw-a"), false, "alice's password is not bob's");
  assert.equal(calls.length, 4);
});

test("an unknown user is checked against a decoy and fails", async () => {
  const { check, calls } = await setup();
  assert.equal(await check("mallory", "pw-a"), false);
  assert.equal(calls.length, 1);
});

test("concurrent checks of the same credentials share one verification", async () => {
  const { check, calls } = await setup();
  const results = await Promise.all(Array.from({ length: 8 }, () => check("bob", "pw-b")));
  assert.ok(results.every((ok) => ok));
  assert.equal(calls.length, 1);
});

test("the cache is bounded", async () => {
  const { check, calls } = await setup(1);
  await check("alice", "pw-a");
  await check("bob", "pw-b");
  await check("alice", "pw-a");
  assert.equal(calls.length, 3, "alice was evicted by bob");
});
