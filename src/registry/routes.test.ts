// The methods each registry path is served with, as the server's 405 answers list them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { allowedMethods } from "./routes.ts";

test("allowedMethods reads the route table, and the token endpoint", () => {
  const cases: [string, string[] | undefined][] = [
    ["/v2/", ["GET", "HEAD"]],
    ["/v2", ["GET", "HEAD"]],
    ["/v2/_catalog", ["GET"]],
    ["/v2/team/app/manifests/latest", ["GET", "HEAD", "PUT", "DELETE"]],
    ["/v2/team/app/blobs/uploads/", ["POST"]],
    ["/v2/team/app/blobs/uploads/3f2a", ["GET", "PATCH", "PUT", "DELETE"]],
    ["/v2/team/app/tags/list", ["GET"]],
    ["/token", ["GET"]],
    ["/v2/team/app/nothing", undefined],
    ["/token/x", undefined],
    ["/", undefined],
  ];
  for (const [path, methods] of cases) assert.deepEqual(allowedMethods(path), methods, path);
});
