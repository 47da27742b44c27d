import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BuildError } from "../errors.ts";
import { parseContainerfile, targetStage } from "./parse.ts";

const fails = (text: string, want: RegExp) =>
  assert.throws(
    () => parseContainerfile(text),
    (e: unknown) => e instanceof BuildError && want.test(e.message),
    `${JSON.stringify(text)} should fail with ${want}`,
  );

describe("parseContainerfile", () => {
  it("reads a multi-stage file with every instruction", () => {
    const file = parseContainerfile(
      [
        "# syntax=docker/dockerfile:1",
        "ARG BASE=scratch",
        "FROM ${BASE} AS build",
        "ARG VERSION=1.0",
        'ENV PATH=/bin:/usr/bin GREETING="hello world"',
        "ENV LEGACY a value with spaces",
        'LABEL org.opencontainers.image.title="web app" team=platform',
        "WORKDIR /src",
        "COPY --chown=1000:1000 --chmod=0644 a.txt b.txt /src/",
        'COPY ["with space.txt", "/dst/"]',
        "RUN --network=none echo building \\",
        "    && echo done",
        'RUN ["/bin/sh", "-c", "true"]',
        "",
        "FROM --platform=linux/amd64 scratch",
        "COPY --from=build /src/out /app",
        "ADD rootfs.tar /",
        "USER 1000:1000",
        "EXPOSE 8080 53/udp 9000-9010/tcp",
        'VOLUME ["/data"]',
        'ENTRYPOINT ["/app/server"]',
        "CMD --port 8080",
        'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
        "STOPSIGNAL SIGTERM",
      ].join("\n"),
    );
    assert.deepEqual(file.globalArgs, [{ name: "BASE", default: "scratch" }]);
    assert.equal(file.stages.length, 2);
    const [build, final] = file.stages;
    assert.equal(build?.name, "build");
    assert.equal(build?.base, "${BASE}");
    assert.equal(final?.platform, "linux/amd64");
    assert.deepEqual(
      build?.instructions.map((i) => [i.kind, i.line]),
      [
        ["ARG", 4],
        ["ENV", 5],
        ["ENV", 6],
        ["LABEL", 7],
        ["WORKDIR", 8],
        ["COPY", 9],
        ["COPY", 10],
        ["RUN", 11],
        ["RUN", 13],
      ],
    );
    const env = build?.instructions[1];
    assert.deepEqual(env?.kind === "ENV" && env.pairs, [
      ["PATH", "/bin:/usr/bin"],
      ["GREETING", "hello world"],
    ]);
    const legacy = build?.instructions[2];
    assert.deepEqual(legacy?.kind === "ENV" && legacy.pairs, [["LEGACY", "a value with spaces"]]);
    const copy = build?.instructions[5];
    assert.deepEqual(copy?.kind === "COPY" && [copy.sources, copy.dest, copy.chown, copy.chmod], [
      ["a.txt", "b.txt"],
      "/src/",
      "1000:1000",
      "0644",
    ]);
    const json = build?.instructions[6];
    assert.deepEqual(json?.kind === "COPY" && json.sources, ["with space.txt"]);
    const run = build?.instructions[7];
    assert.deepEqual(run?.kind === "RUN" && [run.command, run.network], [
      { shell: "echo building     && echo done" },
      "none",
    ]);
    const exec = build?.instructions[8];
    assert.deepEqual(exec?.kind === "RUN" && exec.command, { exec: ["/bin/sh", "-c", "true"] });
    const from = final?.instructions[0];
    assert.equal(from?.kind === "COPY" && from.from, "build");
    const cmd = final?.instructions.find((i) => i.kind === "CMD");
    assert.deepEqual(cmd?.kind === "CMD" && cmd.command, { shell: "--port 8080" });
    assert.equal(targetStage(file).index, 1);
    assert.equal(targetStage(file, "build").index, 0);
    assert.equal(targetStage(file, "BUILD").index, 0);
  });

  it("honours the escape directive and comments inside continuations", () => {
    const file = parseContainerfile(
      "# escape=`\nFROM scratch\nRUN echo a `\n# a comment\n  b\nCOPY c:\\x\\y /d\n",
    );
    const [run, copy] = file.stages[0]?.instructions ?? [];
    assert.deepEqual(run?.kind === "RUN" && run.command, { shell: "echo a   b" });
    assert.deepEqual(copy?.kind === "COPY" && copy.sources, ["c:\\x\\y"]);
  });

  it("names the file and line of every error", () => {
    assert.throws(
      () => parseContainerfile("FROM scratch\n\nFRUM x\n", "build/Containerfile"),
      (e: unknown) =>
        e instanceof BuildError &&
        e.message === 'build/Containerfile:3: unknown instruction "FRUM"' &&
        e.line === 3,
    );
    fails("RUN true\n", /^Containerfile:1: RUN before the first FROM/);
    fails("", /no FROM instruction/);
    fails("# only a comment\n", /no FROM instruction/);
    fails("FROM a AS b c\n", /:1: FROM takes an image/);
    fails("FROM a AS Bad!\n", /invalid stage name "Bad!"/);
    fails("FROM a AS x\nFROM b AS x\n", /:2: stage name "x" is used twice/);
    fails("FROM a\nCOPY onlyone\n", /:2: COPY needs a source and a destination/);
    fails("FROM a\nCOPY --frm=x a b\n", /:2: unknown flag --frm \(known: --chown, --chmod, --from\)/);
    fails("FROM a\nADD --from=x a b\n", /unknown flag --from/);
    fails("FROM a\nCOPY --chmod=abc a b\n", /invalid --chmod "abc"/);
    fails("FROM a\nCOPY --chown a b\n", /flag --chown needs a value/);
    fails("FROM a\nRUN --network=bridge true\n", /invalid --network "bridge"/);
    fails("FROM a\nRUN\n", /RUN needs a command/);
    fails("FROM a\nRUN []\n", /empty command/);
    fails('FROM a\nENV A="unclosed\n', /:2: ENV: unclosed double quote/);
    fails("FROM a\nENV 1A=x\n", /invalid name "1A"/);
    fails("FROM a\nLABEL novalue\n", /expected KEY=VALUE, got "novalue"/);
    fails("FROM a\nEXPOSE 80/xtp\n", /invalid port "80\/xtp"/);
    fails("FROM a\nEXPOSE http\n", /invalid port "http"/);
    fails("FROM a\nUSER a b\n", /USER takes one word/);
    fails("FROM a\nSHELL /bin/sh -c\n", /SHELL takes a JSON array/);
    fails("FROM a\nONBUILD RUN true\n", /ONBUILD triggers are not supported/);
    fails("ARG 9x\nFROM a\n", /:1: ARG: invalid name "9x"/);
    fails("# escape=x\nFROM a\n", /:1: invalid escape directive "x"/);
    fails("# escape=`\n# escape=\\\nFROM a\n", /:2: parser directive "escape" is given twice/);
    fails("FROM a\0\n", /NUL bytes/);
    fails(`FROM a\nRUN ${"x".repeat(1024 * 1024)}\n`, /larger than 1048576 bytes/);
    assert.throws(
      () => targetStage(parseContainerfile("FROM a AS one\n"), "two"),
      /target stage "two" is not in the file \(stages: one\)/,
    );
  });
});
