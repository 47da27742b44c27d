// Password hashes: round trip, wrong passwords, the self-describing format, malformed hashes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hashPassword, isPasswordHash, verifyPassword } from "./password.ts";

test("a hash verifies its password and no other", async () => {
  const hash = await hashPassword("correct horse");
  assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(isPasswordHash(hash), true);
  assert.equal(await verifyPassword("correct horse", hash), true);
  assert.equal(await verifyPassword("correct horse ", hash), false);
  assert.equal(await verifyPassword("", hash), false);
});

test("each hash has its own salt, and the cost is read from the hash", async () => {
  const a = await hashPassword("pw", { logN: 10 });
  const b = await hashPassword("pw", { logN: 10 });
  assert.notEqual(a, b);
  assert.match(a, /^\$scrypt\$ln=10,/);
  assert.equal(await verifyPassword("pw", a), true);
  assert.equal(await verifyPassword("pw", b), true);
});

test("unicode passwords are normalized", async () => {
  const hash = await hashPassword("caf\u00e9", { logN: 10 });
  assert.equal(await verifyPassword("cafe\u0301", hash), true);
});

test("malformed or hostile hashes never verify", async () => {
  const good = await hashPassword("pw", { logN: 10 });
  const salt = good.split("$")[3] ?? "";
  const key = good.split("$")[4] ?? "";
  for (const hash of [
    "",
    "pw",
    "$2y$10$abcdefghijklmnopqrstuv",
    good.replace("$scrypt$", "$scrypt2$"),
    `$scrypt$ln=30,r=8,p=1$${salt}$${key}`,
    `$scrypt$ln=10,r=99,p=1$${salt}$${key}`,
    `$scrypt$ln=10,r=8,p=1$${salt}$short`,
    `$scrypt$ln=10,r=8,p=1$${salt}$${key}$extra`,
  ]) {
    assert.equal(isPasswordHash(hash), false, hash);
    assert.equal(await verifyPassword("pw", hash), false, hash);
  }
  await assert.rejects(hashPassword("pw", { logN: 40 }), /Invalid scrypt cost "40"/);
});
