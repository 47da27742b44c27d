// `strata replicate`: the status table's progress column, and the command group made once
// whichever file registers into it first.
import assert from "node:assert/strict";
import { Command } from "commander";
import { describe, it } from "node:test";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { printReplicas, progressText, registerReplicate } from "./commands/replicate.ts";

const MiB = 1024 * 1024;

describe("strata replicate", () => {
  it("shows progress as bytes sent of the bytes the site lacked", () => {
    assert.equal(
      progressText({ state: "copying", bytesDone: 120.3 * MiB, bytesTotal: 200 * MiB }),
      "120.3 MiB of 200.0 MiB",
    );
    assert.equal(progressText({ state: "failed", bytesDone: 0, bytesTotal: 512 }), "0 B of 512 B");
    assert.equal(
      progressText({ state: "completed", bytesDone: 3 * MiB, bytesTotal: 3 * MiB }),
      "3.0 MiB sent",
    );
    assert.equal(progressText({ state: "completed", bytesDone: 0, bytesTotal: 0 }), "nothing missing");
    assert.equal(progressText({ state: "pending", bytesDone: 0, bytesTotal: 0 }), "-");
  });

  it("prints one line per copy with its error and retry time", () => {
    const io = memoryIo({});
    printReplicas(io, [
      {
        gallery: "apps",
        image: "web",
        version: "1.0.0",
        site: "eu",
        region: "eu-west",
        state: "copying",
        bytesDone: MiB,
        bytesTotal: 2 * MiB,
        attempts: 1,
      },
      {
        gallery: "apps",
        image: "web",
        version: "1.0.0",
        site: "dr",
        state: "failed",
        bytesDone: 0,
        bytesTotal: 0,
        attempts: 2,
        error: "Cannot reach registry dr",
        nextAttemptAt: "2026-12-05T10:00:00.000Z",
      },
    ]);
    const lines = io.out().trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^VERSION\s+SITE\s+STATE\s+PROGRESS\s+ERROR$/);
    assert.match(lines[1] ?? "", /^apps\/web:1\.0\.0\s+eu \(eu-west\)\s+copying\s+1\.0 MiB of 2\.0 MiB\s+-$/);
    assert.match(
      lines[2] ?? "",
      /dr\s+failed\s+0 B of 0 B\s+Cannot reach registry dr \(retry at 2026-12-05T10:00:00Z\)$/,
    );
  });

  it("adds to a replicate group another file made first, and makes it otherwise", () => {
    const io = memoryIo({});
    const first = new Command("strata");
    first.command("replicate").command("plan");
    registerReplicate(first, io);
    assert.equal(first.commands.filter((c) => c.name() === "replicate").length, 1);
    assert.deepEqual(
      first.commands.find((c) => c.name() === "replicate")?.commands.map((c) => c.name()),
      ["plan", "set", "status"],
    );
    const alone = new Command("strata");
    registerReplicate(alone, io);
    assert.deepEqual(
      alone.commands.find((c) => c.name() === "replicate")?.commands.map((c) => c.name()),
      ["set", "status"],
    );
  });
});
