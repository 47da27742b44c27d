// The CLI's copies of the API's enumerations stay equal to what the server accepts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Value } from "@sinclair/typebox/value";
import { API_ROUTES, KINDS, MODES, ROLES } from "../gallery/index.ts";
import { VmSchema } from "../gallery/schemas.ts";
import * as values from "./api-values.ts";

describe("the CLI's API values", () => {
  it("equal the gallery's roles, modes and kinds", () => {
    assert.deepEqual(values.ROLES, ROLES);
    assert.deepEqual(values.MODES, MODES);
    assert.deepEqual(values.KINDS, KINDS);
  });
  it("are what the VM metadata and the request filter accept", () => {
    for (const generation of values.GENERATIONS) assert.ok(Value.Check(VmSchema, { generation }));
    for (const bootMode of values.BOOT_MODES) assert.ok(Value.Check(VmSchema, { bootMode }));
    const query = API_ROUTES.find((r) => r.operationId === "listRequests")?.query;
    assert.ok(query !== undefined);
    for (const state of values.REQUEST_STATES) assert.ok(Value.Check(query, { state }), state);
    assert.ok(!Value.Check(query, { state: "applying" }));
  });
});
