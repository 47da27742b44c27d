import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configUnchanged, diffConfigs } from "./config.ts";

describe("config diff", () => {
  it("lists env, labels, ports and volumes by key and the scalars that changed", () => {
    const d = diffConfigs(
      {
        os: "linux",
        architecture: "amd64",
        config: {
          Env: ["PATH=/bin", "OLD=1", "SAME=x", "DUP=first", "DUP=second"],
          Entrypoint: ["/entry"],
          Cmd: ["serve"],
          User: "app",
          WorkingDir: "/srv",
          ExposedPorts: { "80/tcp": {}, "443/tcp": {} },
          Volumes: { "/data": {} },
          Labels: { version: "1.1", team: "web" },
          StopSignal: "SIGTERM",
        },
      },
      {
        os: "linux",
        architecture: "arm64",
        config: {
          Env: ["PATH=/usr/bin:/bin", "SAME=x", "NEW=a=b", "DUP=second"],
          Entrypoint: ["/entry"],
          Cmd: ["serve", "--fast"],
          User: "",
          WorkingDir: "/srv",
          ExposedPorts: { "443/tcp": {}, "8080/tcp": {} },
          Volumes: null,
          Labels: { version: "1.2", team: "web", tier: "front" },
          StopSignal: "SIGQUIT",
        },
      },
    );
    assert.deepEqual(d, {
      env: {
        added: [{ key: "NEW", value: "a=b" }],
        removed: [{ key: "OLD", value: "1" }],
        changed: [{ key: "PATH", from: "/bin", to: "/usr/bin:/bin" }],
      },
      labels: {
        added: [{ key: "tier", value: "front" }],
        removed: [],
        changed: [{ key: "version", from: "1.1", to: "1.2" }],
      },
      exposedPorts: { added: ["8080/tcp"], removed: ["80/tcp"] },
      volumes: { added: [], removed: ["/data"] },
      cmd: { from: ["serve"], to: ["serve", "--fast"] },
      user: { from: "app" },
      stopSignal: { from: "SIGTERM", to: "SIGQUIT" },
      platform: { from: "linux/amd64", to: "linux/arm64" },
    });
    assert.equal(configUnchanged(d), false);
  });

  it("finds nothing between equal configs, empty and absent values alike", () => {
    const d = diffConfigs(
      { os: "linux", architecture: "amd64", config: { Env: ["A=1"], Cmd: [], User: "" } },
      { os: "linux", architecture: "amd64", config: { Env: ["A=1"], Entrypoint: null } },
    );
    assert.equal(configUnchanged(d), true);
  });
});
