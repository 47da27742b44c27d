// The methods of an API path, read from a route table with :params.
import assert from "node:assert/strict";
import { test } from "node:test";
import { pathMethods } from "./allowed-methods.ts";
import { API_ROUTES } from "./routes.ts";

test("a path collects the methods of every route it matches; others have none", () => {
  const methodsOf = pathMethods(
    [
      { method: "GET", path: "/galleries" },
      { method: "POST", path: "/galleries" },
      { method: "GET", path: "/galleries/:gallery" },
      { method: "DELETE", path: "/galleries/:gallery" },
      { method: "POST", path: "/requests/:id/approve" },
    ],
    [{ method: "GET", path: "/openapi.json" }],
  );
  assert.deepEqual(methodsOf("/galleries"), ["GET", "POST"]);
  assert.deepEqual(methodsOf("/galleries/team-a"), ["GET", "DELETE"]);
  assert.deepEqual(methodsOf("/requests/42/approve"), ["POST"]);
  assert.deepEqual(methodsOf("/openapi.json"), ["GET"]);
  assert.equal(methodsOf("/openapiXjson"), undefined);
  assert.equal(methodsOf("/galleries/a/b"), undefined);
  assert.equal(methodsOf("/galleries/"), undefined);
  assert.equal(methodsOf("/nothing"), undefined);
});

test("every path of the API's own table has the methods declared for it", () => {
  const methodsOf = pathMethods(API_ROUTES);
  for (const route of API_ROUTES) {
    const concrete = route.path.replace(/:[a-zA-Z]+/g, "x1");
    assert.ok(methodsOf(concrete)?.includes(route.method), `${route.method} ${route.path}`);
  }
});
