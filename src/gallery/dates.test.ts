import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDate, parseFutureDate } from "./dates.ts";
import { GalleryError } from "./errors.ts";

const invalid = (e: unknown) => e instanceof GalleryError && e.code === "INVALID";

describe("dates", () => {
  it("reads a date as midnight UTC and a date-time with its offset", () => {
    assert.equal(parseDate("eol", "2027-06-30"), Date.UTC(2027, 5, 30));
    assert.equal(parseDate("eol", "2027-06-30T12:00:00Z"), Date.UTC(2027, 5, 30, 12));
    assert.equal(parseDate("eol", "2027-06-30T12:00:00+02:00"), Date.UTC(2027, 5, 30, 10));
    assert.equal(parseDate("eol", "2027-06-30T12:00:00.250Z"), Date.UTC(2027, 5, 30, 12, 0, 0, 250));
  });
  for (const bad of [
    "",
    "2027-6-30",
    "2027-02-30",
    "2027-13-01",
    "30/06/2027",
    "2027-06-30T12:00:00",
    "tomorrow",
    "1751241600000",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parseDate("eol", bad),
        (e: unknown) => invalid(e) && /Invalid eol/.test((e as Error).message),
      );
    });
  }
  it("refuses a date that is not in the future", () => {
    const now = Date.UTC(2027, 0, 1);
    assert.throws(
      () => parseFutureDate("eol", "2027-01-01", now),
      (e: unknown) => invalid(e) && /in the past/.test((e as Error).message),
    );
    assert.equal(parseFutureDate("eol", "2027-01-02", now), Date.UTC(2027, 0, 2));
  });
});
