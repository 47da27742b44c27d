// Image configs: the OCI and Docker shapes real builders write (nulls included), and
// CONFIG_INVALID with a message naming the field for every wrong type.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseImageConfig } from "./config.ts";
import { throwsOci } from "../../test/helpers/oci-assert.ts";

const throwsConfig = (fn: () => unknown, pattern: RegExp): void =>
  throwsOci(fn, "CONFIG_INVALID", /^Invalid image config: /, pattern);

const enc = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

const DIFF1 = `sha256:${"1".repeat(64)}`;
const DIFF2 = `sha256:${"2".repeat(64)}`;
const minimal = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [DIFF1] } };

// The example of image-spec config.md.
const specExample = {
  created: "2015-10-31T22:22:56.015925234Z",
  author: "Alyssa P. Hacker <alyspdev@example.com>",
  architecture: "amd64",
  os: "linux",
  config: {
    User: "alice",
    ExposedPorts: { "8080/tcp": {} },
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=oci_is_a"],
    Entrypoint: ["/bin/my-app-binary"],
    Cmd: ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
    Volumes: { "/var/job-result-data": {}, "/var/log/my-app-logs": {} },
    WorkingDir: "/home/alice",
    Labels: { "com.example.project.git.url": "https://example.com/project.git" },
  },
  rootfs: { diff_ids: [DIFF1, DIFF2], type: "layers" },
  history: [
    { created: "2015-10-31T22:22:54.690851953Z", created_by: "/bin/sh -c #(nop) ADD file:a3bc in /" },
    {
      created: "2015-10-31T22:22:55.613815829Z",
      created_by: '/bin/sh -c #(nop) CMD ["sh"]',
      empty_layer: true,
    },
    { created: "2015-10-31T22:22:56.329850019Z", created_by: "/bin/sh -c apk add curl" },
  ],
};

// What Docker writes: Go's nil slices and maps come out as null, plus Docker-only fields.
const dockerStyle = {
  architecture: "arm64",
  variant: "v8",
  os: "linux",
  "os.version": null,
  created: "2024-05-01T10:00:00.5+02:00",
  docker_version: "24.0.7",
  container: "3f2a",
  container_config: { Hostname: "", Cmd: null },
  config: {
    Hostname: "",
    AttachStdin: false,
    Env: null,
    Cmd: ["sh"],
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
    Volumes: null,
    ExposedPorts: null,
    Image: "sha256:abc",
    Shell: ["/bin/sh", "-c"],
    ArgsEscaped: true,
    StopSignal: "SIGRTMIN+3",
    Healthcheck: { Test: ["CMD", "true"], Interval: 30_000_000_000, Retries: 3 },
    Memory: 0,
    CpuShares: 512,
  },
  rootfs: { type: "layers", diff_ids: [DIFF1] },
  history: [
    { created: "2024-05-01T08:00:00Z", author: null, comment: "buildkit.dockerfile.v0", empty_layer: false },
  ],
};

describe("parseImageConfig accepts", () => {
  it("a minimal config", () => {
    assert.deepEqual(parseImageConfig(enc(minimal)), minimal);
  });

  it("the image-spec example, unchanged", () => {
    assert.deepEqual(parseImageConfig(enc(specExample)), specExample);
  });

  it("Docker's config with nulls, dropping nulls and unknown fields", () => {
    const got = parseImageConfig(enc(dockerStyle));
    assert.equal(got.architecture, "arm64");
    assert.equal(got.variant, "v8");
    assert.equal("os.version" in got, false);
    assert.equal("docker_version" in got, false);
    assert.deepEqual(got.config, {
      Cmd: ["sh"],
      Shell: ["/bin/sh", "-c"],
      ArgsEscaped: true,
      StopSignal: "SIGRTMIN+3",
      Healthcheck: { Test: ["CMD", "true"], Interval: 30_000_000_000, Retries: 3 },
      Memory: 0,
      CpuShares: 512,
    });
    assert.deepEqual(got.history, [
      { created: "2024-05-01T08:00:00Z", comment: "buildkit.dockerfile.v0", empty_layer: false },
    ]);
  });

  const noLayers: { name: string; rootfs: Record<string, unknown> }[] = [
    { name: "an empty diff_ids", rootfs: { type: "layers", diff_ids: [] } },
    { name: "a null diff_ids (Go's nil slice)", rootfs: { type: "layers", diff_ids: null } },
    { name: "no diff_ids (Docker's omitempty)", rootfs: { type: "layers" } },
  ];
  for (const { name, rootfs } of noLayers) {
    it(`${name} as no layers`, () => {
      assert.deepEqual(parseImageConfig(enc({ ...minimal, rootfs })).rootfs, {
        type: "layers",
        diff_ids: [],
      });
    });
  }

  it("empty architecture and os strings (go-containerregistry's empty image)", () => {
    const got = parseImageConfig(enc({ ...minimal, architecture: "", os: "" }));
    assert.equal(got.architecture, "");
  });

  it("a sha512 diff ID", () => {
    const id = `sha512:${"f".repeat(128)}`;
    assert.deepEqual(
      parseImageConfig(enc({ ...minimal, rootfs: { type: "layers", diff_ids: [id] } })).rootfs.diff_ids,
      [id],
    );
  });

  const dates = [
    "0001-01-01T00:00:00Z",
    "2024-02-29T23:59:60Z",
    "2024-01-01T00:00:00.1-08:00",
    "1999-12-31T12:00:00+14:00",
  ];
  for (const created of dates) {
    it(`the date-time ${created}`, () => {
      assert.equal(parseImageConfig(enc({ ...minimal, created })).created, created);
    });
  }
});

describe("parseImageConfig rejects", () => {
  const cases: { name: string; body: unknown; pattern: RegExp }[] = [
    { name: "empty bytes", body: "", pattern: /not JSON/ },
    { name: "truncated JSON", body: JSON.stringify(minimal).slice(0, -2), pattern: /not JSON/ },
    { name: "an array", body: [minimal], pattern: /expected a JSON object, got an array/ },
    { name: "null", body: "null", pattern: /got null/ },
    { name: "a byte order mark", body: `\ufeff${JSON.stringify(minimal)}`, pattern: /byte order mark/ },
    {
      name: "a duplicated key",
      body: JSON.stringify(minimal).replace('"os":"linux"', '"os":"linux","os":"windows"'),
      pattern: /duplicate key "os"/,
    },
    {
      name: "a duplicated Env",
      body: '{"architecture":"a","os":"b","rootfs":{"type":"layers"},"config":{"Env":[],"Env":["A=1"]}}',
      pattern: /duplicate key "Env" in config/,
    },
    {
      name: "a missing architecture",
      body: { ...minimal, architecture: undefined },
      pattern: /architecture must be a string, got none/,
    },
    {
      name: "a null architecture",
      body: { ...minimal, architecture: null },
      pattern: /architecture must be a string, got null/,
    },
    { name: "a numeric os", body: { ...minimal, os: 1 }, pattern: /os must be a string, got 1/ },
    {
      name: "a missing rootfs",
      body: { ...minimal, rootfs: undefined },
      pattern: /rootfs must be an object/,
    },
    {
      name: "rootfs as an array",
      body: { ...minimal, rootfs: [DIFF1] },
      pattern: /rootfs must be an object/,
    },
    {
      name: "a missing rootfs.type",
      body: { ...minimal, rootfs: { diff_ids: [] } },
      pattern: /rootfs.type must be "layers", got none/,
    },
    {
      name: "another rootfs.type",
      body: { ...minimal, rootfs: { type: "layer", diff_ids: [] } },
      pattern: /got "layer"/,
    },
    {
      name: "rootfs.type in capitals",
      body: { ...minimal, rootfs: { type: "LAYERS", diff_ids: [] } },
      pattern: /rootfs.type/,
    },
    {
      name: "diff_ids as a string",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: DIFF1 } },
      pattern: /diff_ids must be an array/,
    },
    {
      name: "diff_ids as an object",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: { 0: DIFF1 } } },
      pattern: /diff_ids must be an array/,
    },
    {
      name: "a numeric diff ID",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: [1] } },
      pattern: /diff_ids\[0\] must be a digest string/,
    },
    {
      name: "a null diff ID",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: [DIFF1, null] } },
      pattern: /diff_ids\[1\]/,
    },
    {
      name: "a short diff ID",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: ["sha256:abc"] } },
      pattern: /diff_ids\[0\]: invalid digest "sha256:abc"/,
    },
    {
      name: "an uppercase diff ID",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: [DIFF1.toUpperCase()] } },
      pattern: /diff_ids\[0\]: invalid digest/,
    },
    {
      name: "a diff ID with NUL",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: [`${DIFF1}\0`] } },
      pattern: /\\u0000/,
    },
    {
      name: "a huge diff ID",
      body: { ...minimal, rootfs: { type: "layers", diff_ids: [`sha256:${"a".repeat(100_000)}`] } },
      pattern: /\.\.\./,
    },
    {
      name: "a numeric created",
      body: { ...minimal, created: 1700000000 },
      pattern: /created must be an RFC 3339 date-time$/,
    },
    {
      name: "a prose created",
      body: { ...minimal, created: "yesterday" },
      pattern: /created must be an RFC 3339 date-time, got "yesterday"/,
    },
    {
      name: "a created without zone",
      body: { ...minimal, created: "2024-01-01T00:00:00" },
      pattern: /created/,
    },
    {
      name: "a created with a space",
      body: { ...minimal, created: "2024-01-01 00:00:00Z" },
      pattern: /created/,
    },
    {
      name: "a created with lowercase t",
      body: { ...minimal, created: "2024-01-01t00:00:00Z" },
      pattern: /created/,
    },
    {
      name: "a created in month 13",
      body: { ...minimal, created: "2024-13-01T00:00:00Z" },
      pattern: /created/,
    },
    { name: "a created at 24:00", body: { ...minimal, created: "2024-01-01T24:00:00Z" }, pattern: /created/ },
    { name: "a date-only created", body: { ...minimal, created: "2024-01-01" }, pattern: /created/ },
    { name: "a numeric author", body: { ...minimal, author: 7 }, pattern: /author must be a string/ },
    { name: "a numeric variant", body: { ...minimal, variant: 8 }, pattern: /variant must be a string/ },
    {
      name: "os.features as a string",
      body: { ...minimal, "os.features": "win32k" },
      pattern: /os.features must be an array of strings/,
    },
    { name: "config as an array", body: { ...minimal, config: [] }, pattern: /config must be an object/ },
    { name: "config as a string", body: { ...minimal, config: "{}" }, pattern: /config must be an object/ },
    {
      name: "a numeric User",
      body: { ...minimal, config: { User: 0 } },
      pattern: /config.User must be a string/,
    },
    {
      name: "Env as a string",
      body: { ...minimal, config: { Env: "A=1" } },
      pattern: /config.Env must be an array of strings/,
    },
    { name: "Env with a number", body: { ...minimal, config: { Env: ["A=1", 2] } }, pattern: /config.Env/ },
    { name: "Env with null", body: { ...minimal, config: { Env: [null] } }, pattern: /config.Env/ },
    {
      name: "Entrypoint as a string",
      body: { ...minimal, config: { Entrypoint: "/bin/sh" } },
      pattern: /config.Entrypoint/,
    },
    { name: "Cmd as an object", body: { ...minimal, config: { Cmd: { 0: "sh" } } }, pattern: /config.Cmd/ },
    {
      name: "ExposedPorts as an array",
      body: { ...minimal, config: { ExposedPorts: ["80/tcp"] } },
      pattern: /config.ExposedPorts must be an object/,
    },
    {
      name: "an ExposedPorts entry that is a string",
      body: { ...minimal, config: { ExposedPorts: { "80/tcp": "" } } },
      pattern: /entry "80\/tcp" must be an empty object/,
    },
    {
      name: "a Volumes entry that is true",
      body: { ...minimal, config: { Volumes: { "/data": true } } },
      pattern: /config.Volumes entry "\/data"/,
    },
    {
      name: "a numeric WorkingDir",
      body: { ...minimal, config: { WorkingDir: 1 } },
      pattern: /config.WorkingDir/,
    },
    {
      name: "a numeric label",
      body: { ...minimal, config: { Labels: { a: 1 } } },
      pattern: /config.Labels: value of "a" is not a string/,
    },
    {
      name: "Labels as an array",
      body: { ...minimal, config: { Labels: ["a=b"] } },
      pattern: /config.Labels/,
    },
    {
      name: "a numeric StopSignal",
      body: { ...minimal, config: { StopSignal: 9 } },
      pattern: /config.StopSignal/,
    },
    {
      name: "ArgsEscaped as a string",
      body: { ...minimal, config: { ArgsEscaped: "true" } },
      pattern: /config.ArgsEscaped must be true or false/,
    },
    {
      name: "a fractional Memory",
      body: { ...minimal, config: { Memory: 1.5 } },
      pattern: /config.Memory must be an integer/,
    },
    {
      name: "a string CpuShares",
      body: { ...minimal, config: { CpuShares: "2" } },
      pattern: /config.CpuShares/,
    },
    {
      name: "Healthcheck as a string",
      body: { ...minimal, config: { Healthcheck: "CMD true" } },
      pattern: /config.Healthcheck must be an object/,
    },
    {
      name: "Healthcheck.Test as a string",
      body: { ...minimal, config: { Healthcheck: { Test: "true" } } },
      pattern: /config.Healthcheck.Test/,
    },
    {
      name: "a string Healthcheck.Interval",
      body: { ...minimal, config: { Healthcheck: { Interval: "30s" } } },
      pattern: /config.Healthcheck.Interval must be an integer/,
    },
    {
      name: "Shell as a string",
      body: { ...minimal, config: { Shell: "/bin/sh" } },
      pattern: /config.Shell/,
    },
    { name: "history as an object", body: { ...minimal, history: {} }, pattern: /history must be an array/ },
    {
      name: "a history entry that is a string",
      body: { ...minimal, history: ["RUN x"] },
      pattern: /history\[0\] must be an object/,
    },
    {
      name: "a history entry with a bad created",
      body: { ...minimal, history: [{}, { created: "now" }] },
      pattern: /history\[1\].created must be an RFC 3339/,
    },
    {
      name: "a numeric created_by",
      body: { ...minimal, history: [{ created_by: 1 }] },
      pattern: /history\[0\].created_by must be a string/,
    },
    {
      name: "empty_layer as a string",
      body: { ...minimal, history: [{ empty_layer: "yes" }] },
      pattern: /history\[0\].empty_layer must be true or false/,
    },
    { name: "empty_layer as 1", body: { ...minimal, history: [{ empty_layer: 1 }] }, pattern: /empty_layer/ },
  ];
  for (const { name, body, pattern } of cases) {
    it(name, () => throwsConfig(() => parseImageConfig(enc(body)), pattern));
  }

  it("bytes that are not UTF-8", () => {
    throwsConfig(
      () => parseImageConfig(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      /not UTF-8/,
    );
  });
});
