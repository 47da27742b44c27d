import assert from "node:assert/strict";
import { test } from "node:test";
import { serialRunner } from "./serial-runner.ts";

test("kicks during a pass make one more pass after it, never two at once", async () => {
  let active = 0;
  let most = 0;
  let passes = 0;
  let release: (() => void) | undefined;
  const runner = serialRunner(
    async () => {
      active += 1;
      most = Math.max(most, active);
      passes += 1;
      if (passes === 1) await new Promise<void>((resolve) => (release = resolve));
      active -= 1;
    },
    { stopped: () => false, onError: () => assert.fail("no pass throws") },
  );
  runner.kick();
  runner.kick();
  runner.kick();
  release?.();
  await runner.settled();
  assert.equal(passes, 2);
  assert.equal(most, 1);
});

test("a pass that throws is reported and the loop goes on; a stopped runner starts nothing", async () => {
  const errors: unknown[] = [];
  let stopped = false;
  let passes = 0;
  const runner = serialRunner(
    async () => {
      passes += 1;
      throw new Error(`pass ${passes}`);
    },
    { stopped: () => stopped, onError: (err) => errors.push(err) },
  );
  runner.kick();
  await runner.settled();
  runner.kick();
  await runner.settled();
  assert.equal(passes, 2);
  assert.deepEqual(
    errors.map((e) => (e as Error).message),
    ["pass 1", "pass 2"],
  );
  stopped = true;
  runner.kick();
  await runner.settled();
  assert.equal(passes, 2);
});
