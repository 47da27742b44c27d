// Manifest reads under a policy: HEAD and GET by tag of an image in `bench-policy/app`, which
// the Strata server's enforce policy (bench/policy-setup.ts) checks on every pull — signed by the
// bench key, an SBOM attached, built less than 30 days ago — against the peer serving the same
// image without any. Compare with manifest-read-c4 (the same reads, no policy) for the cost.
// The image is signed and its SBOM attached in `bench-build/app`, outside the policy's scope,
// then copied in with its referrers, as a release pipeline does.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getManifest, headManifest, pushMonolithic, putManifest } from "../registry-api.ts";
import { benchKey, POLICY_REPO_PREFIX } from "../policy-setup.ts";
import { perSecond, runPool, type Scenario } from "../scenario.ts";
import { sha256 } from "../payload.ts";

const REPO = `${POLICY_REPO_PREFIX}/app`;
const BUILD = "bench-build/app";

export const manifestReadPolicyC4: Scenario<void> = {
  name: "manifest-read-policy-c4",
  title:
    "manifest HEAD and GET by tag under an enforce policy: signed, SBOM, age (peer: no policy), concurrency 4",
  unit: "req/s",
  async setup(target, env) {
    const { layer } = env.image;
    const configBytes = Buffer.from(
      JSON.stringify({
        created: new Date().toISOString(),
        architecture: "amd64",
        os: "linux",
        config: {},
        rootfs: { type: "layers", diff_ids: [sha256(Buffer.alloc(1024))] },
      }),
    );
    const config = { digest: sha256(configBytes), bytes: configBytes };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: config.digest,
          size: configBytes.length,
        },
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
            digest: layer.digest,
            size: layer.bytes.length,
          },
        ],
      }),
    );
    if (target.side !== "strata" || target.label !== "Strata") {
      await pushMonolithic(target.client, REPO, config.digest, config.bytes);
      await pushMonolithic(target.client, REPO, layer.digest, layer.bytes);
      await putManifest(target.client, REPO, "v1", manifest);
      return;
    }
    await pushMonolithic(target.client, BUILD, config.digest, config.bytes);
    await pushMonolithic(target.client, BUILD, layer.digest, layer.bytes);
    await putManifest(target.client, BUILD, "v1", manifest);
    const remote = await import("../../src/remote/index.ts");
    const sbom = await import("../../src/sbom/index.ts");
    const sign = await import("../../src/sign/index.ts");
    const client = new remote.RegistryClient({ registry: new URL(target.url).host, insecure: true });
    const build = remote.createRegistryEndpoint(client, BUILD);
    const subject = {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: sha256(manifest),
      size: manifest.length,
    };
    const inventory = { packages: [] };
    await sbom.attachSboms(
      build,
      subject,
      sbom.sbomReferrers(inventory, { name: BUILD, digest: subject.digest }, subject),
    );
    await sign.signImage(build, "v1", benchKey());
    const scratch = await mkdtemp(join(tmpdir(), "strata-bench-copy-"));
    try {
      await remote.copyImage(build, "v1", remote.createRegistryEndpoint(client, REPO), {
        tag: "v1",
        scratch,
      });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    // The policy allows it: a refused read fails the setup here, not the timed rounds.
    await getManifest(target.client, REPO, "v1");
  },
  async round(target, _state, env) {
    const count = env.sizes.manifestReads;
    const { elapsedMs, latenciesMs } = await runPool(count, 4, (i) =>
      i % 2 === 0 ? headManifest(target.client, REPO, "v1") : getManifest(target.client, REPO, "v1"),
    );
    return { value: perSecond(count, elapsedMs), latenciesMs };
  },
};
