// The gallery's pull path: HEAD and GET of `bench-gallery/web:production`, a channel of a
// gallery definition resolved at request time through version and lifecycle checks, against the
// peer serving the same name as a plain tag. Shows what release semantics cost on every pull.
import { getManifest, headManifest, pushMonolithic, putManifest } from "../registry-api.ts";
import { perSecond, runPool, type Scenario } from "../scenario.ts";
import type { Target } from "../servers.ts";

const REPO = "bench-gallery/web";

async function api(target: Target, method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${target.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function servesGallery(target: Target): Promise<boolean> {
  try {
    return (await api(target, "GET", "/openapi.json")) === 200;
  } catch {
    return false;
  }
}

export const galleryPullC4: Scenario<void> = {
  name: "gallery-pull-c4",
  title: "manifest HEAD and GET of a gallery channel (peer: the same name as a plain tag), concurrency 4",
  unit: "req/s",
  async setup(target, env) {
    const { config, layer } = env.image;
    await pushMonolithic(target.client, REPO, config.digest, config.bytes);
    await pushMonolithic(target.client, REPO, layer.digest, layer.bytes);
    if (!(await servesGallery(target))) {
      await putManifest(target.client, REPO, "production", env.image.manifest("1.0.0"));
      return;
    }
    await putManifest(target.client, REPO, "build-1", env.image.manifest("1.0.0"));
    const steps: [string, string, unknown][] = [
      ["POST", "/galleries", { name: "bench-gallery" }],
      ["POST", "/galleries/bench-gallery/images", { name: "web", kind: "container" }],
      ["POST", "/galleries/bench-gallery/images/web/versions", { version: "1.0.0", from: `${REPO}:build-1` }],
      ["PUT", "/galleries/bench-gallery/images/web/channels/production", { version: "1.0.0" }],
    ];
    for (const [method, path, body] of steps) {
      const status = await api(target, method, path, body);
      if (status >= 300) throw new Error(`gallery setup: ${method} ${path} answered ${status}`);
    }
  },
  async round(target, _state, env) {
    const count = env.sizes.manifestReads;
    const { elapsedMs, latenciesMs } = await runPool(count, 4, (i) =>
      i % 2 === 0
        ? headManifest(target.client, REPO, "production")
        : getManifest(target.client, REPO, "production"),
    );
    return { value: perSecond(count, elapsedMs), latenciesMs };
  },
};
