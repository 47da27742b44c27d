// Durations: units, combinations, and text that is not a duration.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "./duration.ts";

test("parseDuration reads units and combinations", () => {
  const cases: [string, number][] = [
    ["250ms", 250],
    ["90s", 90_000],
    ["5m", 300_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["0s", 0],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("parseDuration refuses what is not a duration", () => {
  for (const text of [
    "",
    "5",
    "5 m",
    "5min",
    "m",
    "-5s",
    "5s ago",
    "1e3s",
    "s5",
    "5S",
    "99999999999999999999d",
  ]) {
    assert.equal(parseDuration(text), undefined, text);
  }
});

test("formatDuration picks the largest exact unit", () => {
  assert.equal(formatDuration(86_400_000), "1d");
  assert.equal(formatDuration(90_000), "90s");
  assert.equal(formatDuration(1500), "1500ms");
  assert.equal(formatDuration(0), "0ms");
});
