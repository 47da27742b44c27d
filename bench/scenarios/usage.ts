// Pull counting's cost: GETs of a gallery version's manifest, by version tag and by digest, each
// one a counted pull, on Strata with usage on (the default: counters in memory, written every
// second) against Strata with usage off in the peer's slot. The ratio is on ÷ off.
import { getManifest, pushMonolithic, putManifest } from "../registry-api.ts";
import { perSecond, runPool, type Scenario } from "../scenario.ts";
import { startStrataUsageOffTarget, type Target } from "../servers.ts";
import { sha256 } from "../payload.ts";

const REPO = "bench-usage/web";
const BUILD = "bench-usage-build/web";

async function api(target: Target, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${target.url}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`usage setup: ${method} ${path} answered ${res.status}`);
}

export const manifestReadUsageC4: Scenario<{ digest: string }> = {
  name: "manifest-read-usage-c4",
  title:
    "manifest GET of a gallery version by tag and digest, pulls counted (peer: Strata with usage off), concurrency 4",
  unit: "req/s",
  peer: startStrataUsageOffTarget,
  async setup(target, env) {
    const { config, layer } = env.image;
    await pushMonolithic(target.client, BUILD, config.digest, config.bytes);
    await pushMonolithic(target.client, BUILD, layer.digest, layer.bytes);
    const manifest = env.image.manifest("1.0.0");
    await putManifest(target.client, BUILD, "build-1", manifest);
    await api(target, "POST", "/galleries", { name: "bench-usage" });
    await api(target, "POST", "/galleries/bench-usage/images", { name: "web", kind: "container" });
    await api(target, "POST", "/galleries/bench-usage/images/web/versions", {
      version: "1.0.0",
      from: `${BUILD}:build-1`,
    });
    return { digest: sha256(manifest) };
  },
  async round(target, state, env) {
    const count = env.sizes.manifestReads;
    const { elapsedMs, latenciesMs } = await runPool(count, 4, (i) =>
      getManifest(target.client, REPO, i % 2 === 0 ? "1.0.0" : state.digest),
    );
    return { value: perSecond(count, elapsedMs), latenciesMs };
  },
};
