// The run point against fake servers on loopback: a Strata server is asked whether it is one
// once per process and then decides every run; a registry that is not a Strata server is asked
// once and never sent a policy question; the configured server ($STRATA_SERVER, --server) is
// not asked at all, and still decides.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { checkRunPolicy } from "./run-policy.ts";

interface Fake {
  readonly host: string;
  readonly asked: { whoami: number; check: number };
  readonly server: Server;
}

const fakes: Fake[] = [];

/** A loopback server: a Strata server that denies everything at run, or a registry that is not one. */
async function fake(strata: boolean): Promise<Fake> {
  const asked = { whoami: 0, check: 0 };
  const server = createServer((req, res) => {
    req.resume();
    if (req.url === "/api/v1/whoami") asked.whoami++;
    if (req.url === "/api/v1/policy/check") asked.check++;
    if (!strata) return void res.writeHead(404).end("404 page not found");
    res.setHeader("content-type", "application/json");
    if (req.url === "/api/v1/whoami")
      return void res.end(JSON.stringify({ user: null, authentication: false }));
    res.end(
      JSON.stringify({
        results: [{ reference: "app/web:1", outcome: "deny", reasons: ["not signed"], failures: [] }],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const made = { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, asked, server };
  fakes.push(made);
  return made;
}

after(async () => {
  for (const f of fakes) await new Promise((resolve) => f.server.close(resolve));
});

describe("checkRunPolicy", () => {
  it("asks a registry whether it is a Strata server once, and has every run decided", async () => {
    const s = await fake(true);
    for (let i = 0; i < 3; i++)
      await assert.rejects(
        checkRunPolicy(memoryIo({}), s.host, `${s.host}/app/web:1`, { insecure: false }),
        /is refused by the policies of http:\/\/127\.0\.0\.1:\d+: not signed/,
      );
    assert.deepEqual(s.asked, { whoami: 1, check: 3 });
  });

  it("asks a registry that is not a Strata server once, and never for a decision", async () => {
    const r = await fake(false);
    for (let i = 0; i < 3; i++)
      await checkRunPolicy(memoryIo({}), r.host, `${r.host}/app/web:1`, { insecure: false });
    assert.deepEqual(r.asked, { whoami: 1, check: 0 });
  });

  it("does not ask the configured server whether it is one, and has it decide", async () => {
    const s = await fake(true);
    const other = await fake(true);
    const url = `http://${s.host}`;
    await assert.rejects(
      checkRunPolicy(memoryIo({ STRATA_SERVER: url }), s.host, `${s.host}/app/web:1`, { insecure: false }),
      /not signed/,
    );
    await assert.rejects(
      checkRunPolicy(memoryIo({}), s.host, `${s.host}/app/web:1`, { insecure: false, server: url }),
      /not signed/,
    );
    assert.deepEqual(s.asked, { whoami: 0, check: 2 });
    // Another registry than the configured server's is still asked.
    await assert.rejects(
      checkRunPolicy(memoryIo({ STRATA_SERVER: url }), other.host, `${other.host}/app/web:1`, {
        insecure: false,
      }),
      /not signed/,
    );
    assert.deepEqual(other.asked, { whoami: 1, check: 1 });
  });

  it("does not check images without a registry", async () => {
    await checkRunPolicy(memoryIo({}), undefined, "app/web:1", { insecure: false });
  });
});
