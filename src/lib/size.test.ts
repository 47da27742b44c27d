// Sizes: binary and decimal units, plain byte counts, and text that is not a size.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSize } from "./size.ts";

test("parseSize reads bytes and units", () => {
  const cases: [string | number, number][] = [
    [4096, 4096],
    ["4096", 4096],
    ["4MiB", 4 * 1024 * 1024],
    ["512KiB", 512 * 1024],
    ["512 kib", 512 * 1024],
    ["1GB", 1e9],
    ["1.5KiB", 1536],
    ["10B", 10],
    ["64m", 64 * 1024 * 1024],
    ["2G", 2 * 1024 ** 3],
    ["8k", 8192],
    [0, 0],
  ];
  for (const [value, bytes] of cases) assert.equal(parseSize(value), bytes, String(value));
});

test("parseSize refuses what is not a size", () => {
  for (const value of [
    "",
    "4 megs",
    "MiB",
    "-1",
    "1.3B",
    "4MiBs",
    "1e3",
    1.5,
    -1,
    Number.NaN,
    "9999999999 TiB",
  ]) {
    assert.equal(parseSize(value), undefined, String(value));
  }
});
