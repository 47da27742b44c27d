// Exit codes and messages of the program as a whole: help and the version exit 0, command-line
// mistakes exit 2 with one message on stderr, printed once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { buildProgram } from "./program.ts";
import { runCli } from "./run-cli.ts";
import { VERSION } from "./version.ts";

async function run(...args: string[]) {
  const io = memoryIo({ STRATA_SERVER: "http://127.0.0.1:9" });
  const code = await runCli(["node", "strata", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("strata's exit codes", () => {
  it("print help and the version on stdout and exit 0", async () => {
    const help = await run("version", "publish", "--help");
    assert.deepEqual([help.code, help.stderr], [0, ""]);
    assert.match(help.stdout, /^Usage: strata version publish \[options\] <gallery\/name> \[version\]/);
    assert.match(help.stdout, /--from <ref>/);
    assert.deepEqual(await run("--version"), { code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("show the subcommands on stderr and exit 2 when one is missing", async () => {
    const result = await run("channel");
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /^Usage: strata channel \[options\] \[command\]/);
    assert.match(result.stderr, /\n +rollback \[options\] <gallery\/name> <channel>/);
  });

  it("refuse unknown commands and options with one message and exit 2", async () => {
    assert.deepEqual(await run("galery", "list"), {
      code: 2,
      stdout: "",
      stderr: "Error: unknown command 'galery'\n(Did you mean gallery?)\n",
    });
    assert.deepEqual(await run("version", "list", "prod/web", "--delted"), {
      code: 2,
      stdout: "",
      stderr: "Error: unknown option '--delted'\n(Did you mean --deleted?)\n",
    });
    assert.deepEqual(await run("audit", "prod", "extra"), {
      code: 2,
      stdout: "",
      stderr: "Error: too many arguments for 'audit'. Expected 1 argument but got 2.\n",
    });
  });
});

describe("setting up only the command asked for", () => {
  const io = memoryIo({});
  const names = (argv: string[]) => buildProgram(io, argv).commands.map((c) => c.name());
  const all = names(["node", "strata"]);

  it("sets up exactly the named command's registrar, whichever command it is", () => {
    assert.ok(all.length >= 16, all.join(" "));
    for (const name of all) {
      const some = names(["node", "strata", name, "--help"]);
      assert.ok(some.includes(name), `${name} is set up when named`);
      assert.ok(some.length < all.length, `${name} sets up fewer than all`);
    }
  });

  it("sets up every command for help, options first and unknown names", () => {
    assert.deepEqual(names(["node", "strata", "--help", "run"]), all);
    assert.deepEqual(names(["node", "strata", "galery"]), all);
    assert.deepEqual(names(["node", "strata", "toString"]), all);
  });
});
