// Test gates against a built image: command, file and metadata tests pass on what is true of
// the image and fail, with a clear reason each, on what is not.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import {
  build,
  buildWorkDir,
  parseContainerfile,
  runGates,
  type Gate,
  type Image,
} from "../../src/builder/index.ts";

let work: string;
let scratch: Awaited<ReturnType<typeof buildWorkDir>>;
let image: Image;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-gates-"));
  const context = join(work, "ctx");
  await mkdir(context);
  await buildBusyboxBase(join(context, "base"));
  await writeFile(join(context, "app.sh"), "#!/bin/sh\necho serving on 8080\necho warming up >&2\n");
  scratch = await buildWorkDir();
  ({ image } = await build({
    containerfile: parseContainerfile(
      [
        "FROM oci-layout:base:busybox",
        "ENV MODE=production",
        "COPY --chmod=0755 app.sh /usr/local/bin/app",
        "USER nobody",
        "WORKDIR /",
        "EXPOSE 8080",
        'LABEL org.opencontainers.image.title="app"',
        'ENTRYPOINT ["/usr/local/bin/app"]',
      ].join("\n"),
    ),
    context,
    workDir: scratch.path,
  }));
});
after(async () => {
  await scratch?.remove();
  await rm(work, { recursive: true, force: true });
});

describe("test gates", () => {
  it("pass on what is true of the image", async () => {
    const gates: Gate[] = [
      {
        name: "app runs",
        command: ["/usr/local/bin/app"],
        stdout: "^serving on 8080$",
        stderr: "warming up",
      },
      { name: "runs as nobody", command: "id -u", stdout: "^65534$" },
      { name: "no network", command: "cat /proc/net/dev | wc -l", stdout: "^\\s*3$" },
      { name: "false fails", command: "exit 4", exitCode: 4 },
      { name: "app file", path: "/usr/local/bin/app", type: "file", mode: "0755", contains: "serving on" },
      { name: "no shadow", path: "/etc/shadow", exists: false },
      {
        name: "metadata",
        metadata: {
          env: { MODE: "production" },
          entrypoint: ["/usr/local/bin/app"],
          user: "nobody",
          workingDir: "/",
          exposedPorts: ["8080"],
          labels: { "org.opencontainers.image.title": "app" },
        },
      },
    ];
    const results = await runGates(image, gates, { workDir: scratch.path });
    for (const r of results) assert.ok(r.passed, `${r.name}: ${r.failures.join("; ")}`);
  });

  it("fail with a reason for each thing that is not so", async () => {
    const results = await runGates(
      image,
      [
        { name: "wrong output", command: ["/usr/local/bin/app"], stdout: "listening", exitCode: 0 },
        { name: "wrong exit", command: "exit 2" },
        { name: "mode", path: "/usr/local/bin/app", mode: "0700" },
        { name: "missing", path: "/srv/config.yaml" },
        {
          name: "meta",
          metadata: { env: { MODE: "debug" }, exposedPorts: ["9090/udp"], user: "root", cmd: ["serve"] },
        },
      ],
      { workDir: scratch.path },
    );
    const failures = Object.fromEntries(results.map((r) => [r.name, r.failures]));
    assert.match(
      failures["wrong output"]?.[0] ?? "",
      /^stdout does not match \/listening\/: "serving on 8080\\n"$/,
    );
    assert.deepEqual(failures["wrong exit"], ["exit code 2, expected 0"]);
    assert.deepEqual(failures.mode, ["/usr/local/bin/app has mode 0755, expected 0700"]);
    assert.deepEqual(failures.missing, ["/srv/config.yaml does not exist"]);
    assert.deepEqual(failures.meta, [
      'env MODE is "production", expected "debug"',
      'cmd is [], expected ["serve"]',
      'user is "nobody", expected "root"',
      "port 9090/udp is not exposed",
    ]);
    assert.ok(results.every((r) => !r.passed));
  });

  it("refuses an invalid pattern clearly", async () => {
    await assert.rejects(
      runGates(image, [{ name: "bad", path: "/usr/local/bin/app", contains: "(" }], {
        workDir: scratch.path,
      }),
      /gate "bad": invalid pattern "\("/,
    );
  });
});
