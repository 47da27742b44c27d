// The webhook routes in-process: AdmissionReviews answered (uid echoed, refusals naming each
// image and its reasons, warnings, JSON Patch pinning tags), and malformed requests answered 400
// with a clear message instead of a review.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { parseReference } from "../oci/index.ts";
import type { AdmissionDecide, AdmissionImage, ResolveDigest } from "./decide.ts";
import { registerAdmission } from "./routes.ts";

const DIGEST = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const TAGS: Record<string, string> = { "nginx:1.25": DIGEST, "reg.example:5000/team/app:v2": OTHER };
const asked: (readonly AdmissionImage[])[] = [];

/** Denies repositories under evil/, warns for images without a tag or with `latest`. */
const decide: AdmissionDecide = async (images) => {
  asked.push(images);
  return {
    results: images.map(({ reference }) => {
      const ref = parseReference(reference);
      if (ref.repository.startsWith("evil/"))
        return {
          reference,
          outcome: "deny",
          reasons: ['policy "trusted" rule "repos": repository is not allowed'],
        };
      if (ref.digest === undefined && (ref.tag ?? "latest") === "latest")
        return {
          reference,
          outcome: "warn",
          reasons: ['policy "pinned" rule "no-latest": uses a movable tag'],
        };
      return { reference, outcome: "allow", reasons: [] };
    }),
  };
};
const resolve: ResolveDigest = async (reference) => {
  const digest = TAGS[reference];
  if (digest === undefined) throw new Error(`manifest unknown: ${JSON.stringify(reference)}`);
  return digest;
};

let app: FastifyInstance;
before(async () => {
  app = Fastify();
  registerAdmission(app, { decide, resolve }, { timeoutMs: 2000, bodyMaxBytes: 16 * 1024 });
  await app.ready();
});
after(() => app.close());

function pod(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "prod" }, spec };
}

function review(object: unknown, request: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace: "prod",
      name: "p",
      operation: "CREATE",
      userInfo: { username: "alice" },
      object,
      dryRun: false,
      ...request,
    },
  };
}

interface Answer {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
  patchType?: string;
  patch?: string;
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await app.inject({
    method: "POST",
    url: path,
    headers: { "content-type": "application/json" },
    payload: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, json: res.json() };
}

async function answer(path: string, body: unknown): Promise<Answer> {
  const { status, json } = await post(path, body);
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(json.apiVersion, "admission.k8s.io/v1");
  assert.equal(json.kind, "AdmissionReview");
  return json.response as Answer;
}

describe("validating webhook", () => {
  test("allows allowed images and echoes the uid", async () => {
    const res = await answer(
      "/validate",
      review(pod({ containers: [{ name: "web", image: "nginx:1.25" }] })),
    );
    assert.deepEqual(res, { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
  });

  test("refuses naming every denied image, its containers and the reasons, and warns", async () => {
    asked.length = 0;
    const res = await answer(
      "/validate",
      review(
        pod({
          initContainers: [{ name: "setup", image: "evil/tool:1" }],
          containers: [
            { name: "web", image: "nginx" },
            { name: "side", image: "evil/tool:1" },
          ],
          ephemeralContainers: [{ name: "debug", image: "evil/shell:2" }],
        }),
      ),
    );
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 403);
    assert.equal(
      res.status?.message,
      'image "evil/tool:1" (init container "setup", container "side") is denied: policy "trusted" rule "repos": repository is not allowed\n' +
        'image "evil/shell:2" (ephemeral container "debug") is denied: policy "trusted" rule "repos": repository is not allowed',
    );
    assert.deepEqual(res.warnings, [
      'image "nginx" (container "web"): policy "pinned" rule "no-latest": uses a movable tag',
    ]);
    assert.deepEqual(
      asked[0]?.map((i) => [i.reference, i.container, i.kind, i.path]),
      [
        ["evil/tool:1", "setup", "initContainer", "/spec/initContainers/0/image"],
        ["evil/tool:1", "side", "container", "/spec/containers/1/image"],
        ["nginx", "web", "container", "/spec/containers/0/image"],
        ["evil/shell:2", "debug", "ephemeralContainer", "/spec/ephemeralContainers/0/image"],
      ],
    );
  });

  test("an image that is not a reference is refused without asking", async () => {
    const res = await answer("/validate", review(pod({ containers: [{ name: "web", image: "Bad Image" }] })));
    assert.equal(res.allowed, false);
    assert.match(
      res.status?.message ?? "",
      /^image "Bad Image" \(container "web"\) is denied: Invalid reference/,
    );
  });

  test("other kinds, subresources and DELETE are allowed without looking", async () => {
    asked.length = 0;
    const evil = pod({ containers: [{ name: "x", image: "evil/x:1" }] });
    const cases = [
      review({ kind: "ConfigMap", data: {} }, { kind: { group: "", version: "v1", kind: "ConfigMap" } }),
      review(evil, { subResource: "status", operation: "UPDATE" }),
      review(null, { operation: "DELETE" }),
      review(evil, { operation: "CONNECT" }),
    ];
    for (const body of cases) assert.equal((await answer("/validate", body)).allowed, true);
    assert.equal(asked.length, 0);
  });
});

describe("mutating webhook", () => {
  test("pins every tag to its digest by JSON Patch and leaves digests alone", async () => {
    const object = pod({
      initContainers: [{ name: "setup", image: "reg.example:5000/team/app:v2" }],
      containers: [
        { name: "web", image: "nginx:1.25" },
        { name: "pinned", image: `nginx@${OTHER}` },
      ],
    });
    const res = await answer("/mutate", review(object));
    assert.equal(res.allowed, true);
    assert.equal(res.patchType, "JSONPatch");
    assert.deepEqual(JSON.parse(Buffer.from(res.patch ?? "", "base64").toString("utf8")), [
      { op: "replace", path: "/spec/initContainers/0/image", value: `reg.example:5000/team/app@${OTHER}` },
      { op: "replace", path: "/spec/containers/0/image", value: `nginx@${DIGEST}` },
    ]);
  });

  test("an image that cannot be resolved refuses the request with the reason", async () => {
    const res = await answer("/mutate", review(pod({ containers: [{ name: "web", image: "nginx:9.9" }] })));
    assert.equal(res.allowed, false);
    assert.equal(res.patch, undefined);
    assert.equal(
      res.status?.message,
      'image "nginx:9.9" (container "web") is denied: cannot resolve it to a digest: manifest unknown: "nginx:9.9"',
    );
  });

  test("an object whose images are all by digest gets no patch", async () => {
    const res = await answer(
      "/mutate",
      review(pod({ containers: [{ name: "web", image: `nginx@${DIGEST}` }] })),
    );
    assert.deepEqual(res, { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
  });
});

describe("malformed requests answer 400 with a clear message", () => {
  const ok = review(pod({ containers: [{ name: "web", image: "nginx:1.25" }] }));
  const request = ok.request as Record<string, unknown>;
  const cases: { name: string; body: unknown; want: RegExp }[] = [
    { name: "not JSON", body: "{not json", want: /^Invalid AdmissionReview: not JSON: / },
    { name: "empty body", body: "", want: /^Invalid AdmissionReview: the request body is empty$/ },
    { name: "a list", body: [], want: /^Invalid AdmissionReview: expected a JSON object, got a list$/ },
    {
      name: "wrong kind",
      body: { ...ok, kind: "Review" },
      want: /^Invalid AdmissionReview: kind must be "AdmissionReview", got "Review"$/,
    },
    {
      name: "v1beta1",
      body: { ...ok, apiVersion: "admission.k8s.io/v1beta1" },
      want: /apiVersion must be "admission.k8s.io\/v1", got "admission.k8s.io\/v1beta1" \(register the webhook with admissionReviewVersions: \["v1"\]\)$/,
    },
    {
      name: "no request",
      body: { ...ok, request: undefined },
      want: /request must be an object, got missing$/,
    },
    {
      name: "no uid",
      body: { ...ok, request: { ...request, uid: undefined } },
      want: /request\.uid must be a non-empty string, got missing$/,
    },
    {
      name: "unknown operation",
      body: { ...ok, request: { ...request, operation: "PATCH" } },
      want: /request\.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got "PATCH"$/,
    },
    {
      name: "no object on CREATE",
      body: { ...ok, request: { ...request, object: null } },
      want: /request\.object must be an object for CREATE, got null$/,
    },
    {
      name: "a Pod without spec",
      body: review({ kind: "Pod", metadata: {} }),
      want: /request\.object\.spec must be an object in a Pod \(its pod spec is at spec\), got nothing$/,
    },
    {
      name: "containers not a list",
      body: review(pod({ containers: { name: "web" } })),
      want: /request\.object\.spec\.containers must be a list in a Pod, got an object$/,
    },
    {
      name: "an image that is a number",
      body: review(pod({ containers: [{ name: "web", image: 42 }] })),
      want: /request\.object\.spec\.containers\.0\.image must be a string in a Pod, got a number$/,
    },
    {
      name: "a CronJob without jobTemplate",
      body: review(
        { kind: "CronJob", spec: { schedule: "* * * * *" } },
        { kind: { group: "batch", version: "v1", kind: "CronJob" } },
      ),
      want: /request\.object\.spec\.jobTemplate must be an object in a CronJob \(its pod spec is at spec\.jobTemplate\.spec\.template\.spec\), got nothing$/,
    },
    {
      name: "oversized",
      body: review(pod({ containers: [{ name: "web", image: "nginx:1.25", args: ["x".repeat(20_000)] }] })),
      want: /^Invalid AdmissionReview: the request body is over the limit of 16384 bytes \(admission\.bodyMaxBytes\)$/,
    },
  ];
  for (const { name, body, want } of cases) {
    for (const path of ["/validate", "/mutate"]) {
      test(`${name} (${path})`, async () => {
        asked.length = 0;
        const res = await post(path, body);
        assert.equal(res.status, 400);
        assert.match(String(res.json.error), want);
        assert.equal(res.json.response, undefined);
        assert.equal(asked.length, 0, "nothing was decided");
      });
    }
  }
});

describe("fail closed", () => {
  test("a decision that throws denies, naming the failure", async () => {
    const failing = Fastify();
    registerAdmission(
      failing,
      {
        decide: async () => {
          throw new Error('cannot read signatures of "nginx": registry unavailable');
        },
        resolve,
      },
      { timeoutMs: 2000, bodyMaxBytes: 16 * 1024 },
    );
    const res = await failing.inject({
      method: "POST",
      url: "/validate",
      payload: review(pod({ containers: [{ name: "web", image: "nginx:1.25" }] })),
    });
    await failing.close();
    const body = res.json<{ response: Answer }>().response;
    assert.equal(body.allowed, false);
    assert.equal(
      body.status?.message,
      'Denied (fail closed): the policy decision failed: cannot read signatures of "nginx": registry unavailable',
    );
  });

  test("a decision without a result for an image denies that image", async () => {
    const silent = Fastify();
    registerAdmission(
      silent,
      { decide: async () => ({ results: [] }), resolve },
      { timeoutMs: 2000, bodyMaxBytes: 16 * 1024 },
    );
    const res = await silent.inject({
      method: "POST",
      url: "/validate",
      payload: review(pod({ containers: [{ name: "web", image: "nginx:1.25" }] })),
    });
    await silent.close();
    assert.equal(
      res.json<{ response: Answer }>().response.status?.message,
      'image "nginx:1.25" (container "web") is denied: no policy decision was made for it (fail closed)',
    );
  });
});
