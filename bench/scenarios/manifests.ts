// Manifest traffic: pushes under new tags, HEAD and GET by tag at two concurrencies, and listing
// a repository with thousands of tags. The image's config and layer are pushed during setup.
import { getManifest, headManifest, listTags, pushMonolithic, putManifest } from "../registry-api.ts";
import { perSecond, runPool, type Env, type Scenario } from "../scenario.ts";
import type { Target } from "../servers.ts";

/** Pushes the small image's blobs and one manifest tagged `tag`; returns the manifest bytes. */
async function seedImage(target: Target, env: Env, repo: string, tag: string): Promise<Buffer> {
  const { config, layer } = env.image;
  await pushMonolithic(target.client, repo, config.digest, config.bytes);
  await pushMonolithic(target.client, repo, layer.digest, layer.bytes);
  const manifest = env.image.manifest(repo);
  await putManifest(target.client, repo, tag, manifest);
  return manifest;
}

let pushes = 0;

export const manifestPut: Scenario<void> = {
  name: "manifest-put",
  title: "manifest PUT under a new tag each time, sequential",
  unit: "req/s",
  async setup(target, env) {
    await seedImage(target, env, "bench/manifest-put", "seed");
  },
  async round(target, _state, env) {
    const count = env.sizes.manifestPuts;
    const tags = Array.from({ length: count }, () => `t${++pushes}`);
    const manifests = tags.map((tag) => env.image.manifest(tag));
    const { elapsedMs, latenciesMs } = await runPool(count, 1, (i) =>
      putManifest(target.client, "bench/manifest-put", tags[i] ?? "", manifests[i] ?? Buffer.alloc(0)),
    );
    return { value: perSecond(count, elapsedMs), latenciesMs };
  },
};

function manifestReads(concurrency: number): Scenario<void> {
  const repo = "bench/manifest-read";
  return {
    name: `manifest-read-c${concurrency}`,
    title: `manifest HEAD and GET by tag, alternating, at concurrency ${concurrency}`,
    unit: "req/s",
    async setup(target, env) {
      await seedImage(target, env, repo, "latest");
    },
    async round(target, _state, env) {
      const count = env.sizes.manifestReads;
      const { elapsedMs, latenciesMs } = await runPool(count, concurrency, (i) =>
        i % 2 === 0
          ? headManifest(target.client, repo, "latest")
          : getManifest(target.client, repo, "latest"),
      );
      return { value: perSecond(count, elapsedMs), latenciesMs };
    },
  };
}

export const manifestReadC4 = manifestReads(4);
export const manifestReadC16 = manifestReads(16);

export const tagsList: Scenario<void> = {
  name: "tags-list",
  title: "GET tags/list of a repository with 2,000 tags, sequential",
  unit: "req/s",
  async setup(target, env) {
    const repo = "bench/tags";
    const manifest = await seedImage(target, env, repo, "t0");
    await runPool(env.sizes.tags - 1, 8, (i) => putManifest(target.client, repo, `t${i + 1}`, manifest));
    const res = await listTags(target.client, repo, true);
    const listed = (JSON.parse(res.body.toString("utf8")) as { tags?: unknown[] }).tags?.length ?? 0;
    if (listed !== env.sizes.tags) {
      const link = res.headers.link === undefined ? "" : ` (Link: ${res.headers.link})`;
      throw new Error(`${target.label} listed ${listed} of ${env.sizes.tags} tags in one answer${link}`);
    }
  },
  async round(target, _state, env) {
    const count = env.sizes.tagLists;
    const { elapsedMs, latenciesMs } = await runPool(count, 1, () => listTags(target.client, "bench/tags"));
    return { value: perSecond(count, elapsedMs), latenciesMs };
  },
};
