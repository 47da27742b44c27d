// Asserts that a parser refused its input the way every OCI parse error must: an
// OciFormatError with the expected code, and a message in the house style (sentence case, no
// trailing period, clipped, no raw control characters) that matches the given patterns.
import assert from "node:assert/strict";
import { OciFormatError, type OciFormatCode } from "../../src/oci/index.ts";

export function throwsOci(fn: () => unknown, code: OciFormatCode, ...patterns: (RegExp | undefined)[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof OciFormatError, `expected an OciFormatError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, /^[A-Z]/);
    assert.doesNotMatch(error.message, /\.$/);
    assert.ok(error.message.length < 500, "message is clipped");
    assert.ok(![...error.message].some((c) => c < " "), "no raw control characters");
    for (const pattern of patterns) if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });
}
