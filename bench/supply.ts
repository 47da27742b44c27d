// `npm run bench:supply`: what signatures, SBOMs and diffs cost, on real Debian images.
//
// Two Debian roots are made with mmdebstrap (not timed): the minimal one (minbase) and the same
// with curl and ca-certificates (and what they pull in). Then, each the median of several runs:
//   - the SBOM of the minimal image: its packages cataloged from the image's layer (read once,
//     not unpacked) and both documents written (SPDX 2.3 and CycloneDX 1.6) — beside it, what
//     `dpkg-query -W` takes over the same root unpacked (listing only);
//   - signing (a bundle made and attached through the registry API of a running `strata serve`)
//     and verifying (every signature of the digest found, fetched and checked) — beside them,
//     the reference JavaScript verifier (@sigstore/verify) checking the same bundle in memory;
//   - the diff of the two images (packages from their SBOM referrers, every file, the config) —
//     beside it, `diff -rq` over the two roots unpacked.
// Targets (issue "Signatures, SBOMs and diffs"): SBOM ≤ 1 s, sign and verify ≤ 50 ms each,
// diff ≤ 2 s.
//
//   npm run bench:supply [-- --base DIR] [-- --keep DIR]
// --base reuses a layout made earlier holding the tags `debian` and `debian-curl`.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildDebianBase } from "../scripts/base-images.ts";
import { startStrata } from "../test/helpers/strata-server.ts";

const run = promisify(execFile);

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function timed(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

const verdict = (pass: boolean): string => (pass ? "PASS" : "FAIL");
const ms = (value: number): string => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

interface LayoutImage {
  readonly digest: string;
  readonly size: number;
  readonly layers: { path: string; digest: string }[];
}

async function layoutImage(dir: string, tag: string): Promise<LayoutImage> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string; size: number; annotations?: Record<string, string> }[];
  };
  const entry = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag);
  if (entry === undefined) throw new Error(`No tag ${tag} in ${dir}`);
  const blob = (digest: string): string => join(dir, "blobs", "sha256", digest.slice("sha256:".length));
  const manifest = JSON.parse(await readFile(blob(entry.digest), "utf8")) as { layers: { digest: string }[] };
  return {
    digest: entry.digest,
    size: entry.size,
    layers: manifest.layers.map((l) => ({ path: blob(l.digest), digest: l.digest })),
  };
}

async function unpack(image: LayoutImage, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  for (const layer of image.layers) await run("tar", ["-xzf", layer.path, "-C", into, "--numeric-owner"]);
}

async function main(): Promise<void> {
  const keep = arg("--keep");
  const work = keep ?? (await mkdtemp(join(tmpdir(), "strata-bench-supply-")));
  await mkdir(work, { recursive: true });
  let layout = arg("--base");
  if (layout === undefined) {
    layout = join(work, "layout");
    console.log("Making the two Debian images (mmdebstrap; not timed)…");
    await buildDebianBase(layout, "debian");
    await buildDebianBase(layout, "debian-curl", { include: ["curl", "ca-certificates"] });
  }
  const sbom = await import("../src/sbom/index.ts");
  const sign = await import("../src/sign/index.ts");
  const diff = await import("../src/diff/index.ts");
  const remote = await import("../src/remote/index.ts");
  const minimal = await layoutImage(layout, "debian");
  const curl = await layoutImage(layout, "debian-curl");
  let allPass = true;

  // ---- SBOM -------------------------------------------------------------------------------------
  const subject = { name: "debian", digest: minimal.digest, tool: "strata-bench" };
  let packages = 0;
  const sbomMs = await timed(5, async () => {
    const inventory = await sbom.catalogLayers(minimal.layers, { name: "debian" });
    packages = inventory.packages.length;
    for (const format of sbom.SBOM_FORMATS) JSON.stringify(sbom.sbomDocument(format, inventory, subject));
  });
  const roots = { minimal: join(work, "root-minimal"), curl: join(work, "root-curl") };
  await rm(roots.minimal, { recursive: true, force: true });
  await rm(roots.curl, { recursive: true, force: true });
  await unpack(minimal, roots.minimal);
  await unpack(curl, roots.curl);
  let dpkgCount = 0;
  const dpkgMs = await timed(5, async () => {
    const { stdout } = await run("dpkg-query", [`--admindir=${join(roots.minimal, "var/lib/dpkg")}`, "-W"]);
    dpkgCount = stdout.trim().split("\n").length;
  });
  console.log(
    `SBOM of the Debian minimal image (${packages} packages; dpkg-query -W lists ${dpkgCount}), SPDX and CycloneDX: ${ms(sbomMs)} (target ≤ 1000 ms) ${verdict(sbomMs <= 1000)}; dpkg-query -W alone over the unpacked root: ${ms(dpkgMs)}`,
  );
  allPass &&= sbomMs <= 1000 && packages === dpkgCount;

  // ---- sign and verify --------------------------------------------------------------------------
  const server = await startStrata();
  try {
    const client = new remote.RegistryClient({ registry: server.host, insecure: true });
    const scratch = join(work, "scratch");
    await mkdir(scratch, { recursive: true });
    const layoutEndpoint = remote.createLayoutEndpoint(layout);
    for (const [repository, tag] of [
      ["bench/debian", "debian"],
      ["bench/debian-curl", "debian-curl"],
      ["bench/signed", "debian"],
    ] as const)
      await remote.copyImage(layoutEndpoint, tag, remote.createRegistryEndpoint(client, repository), {
        tag: "v1",
        scratch,
      });
    const key = sign.generateSigningKey();
    const trusted = [sign.trustedKeyOf(key, "bench")];
    const signing = remote.createRegistryEndpoint(client, "bench/debian");
    const signMs = await timed(20, () => sign.signImage(signing, minimal.digest, key));
    const verifying = remote.createRegistryEndpoint(client, "bench/signed");
    const signed = await sign.signImage(verifying, minimal.digest, key);
    let verified = false;
    const verifyMs = await timed(20, async () => {
      verified = (await sign.verifyImage(verifying, minimal.digest, trusted)).verified;
    });
    // The reference verifier over the same bundle, in memory.
    const referrer = JSON.parse((await verifying.readManifest(signed.bundle.digest)).toString("utf8")) as {
      layers: { digest: string; size: number; mediaType: string }[];
    };
    const layer = referrer.layers[0];
    if (layer === undefined) throw new Error("The signature referrer has no layer");
    const bundleFile = join(scratch, "bundle.json");
    await verifying.fetchBlob(layer, bundleFile);
    const bundleJson = JSON.parse(await readFile(bundleFile, "utf8")) as unknown;
    const { bundleFromJSON } = await import("@sigstore/bundle");
    const { Verifier, toSignedEntity, toTrustMaterial } = await import("@sigstore/verify");
    const hint = sign.keyHintOf(key.publicKey);
    const trust = toTrustMaterial(
      {
        mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        tlogs: [],
        certificateAuthorities: [],
        ctlogs: [],
        timestampAuthorities: [],
      },
      (given) => {
        if (given !== hint) throw new Error(`unknown key hint ${given}`);
        return { publicKey: key.publicKey, validFor: () => true };
      },
    );
    const reference = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    const referenceMs = await timed(20, async () => {
      reference.verify(toSignedEntity(bundleFromJSON(bundleJson)));
    });
    console.log(
      `Sign (bundle made, attached through the registry API): ${ms(signMs)} (target ≤ 50 ms) ${verdict(signMs <= 50)}`,
    );
    console.log(
      `Verify (referrers listed, bundle fetched and checked): ${ms(verifyMs)}, ${verified ? "valid" : "NOT VALID"} (target ≤ 50 ms) ${verdict(verifyMs <= 50 && verified)}; @sigstore/verify over the same bundle in memory: ${ms(referenceMs)}`,
    );
    allPass &&= signMs <= 50 && verifyMs <= 50 && verified;

    // ---- diff -----------------------------------------------------------------------------------
    // Each image's SBOMs attached as a build attaches them, so the diff reads packages from them.
    for (const [repository, image, name] of [
      ["bench/debian", minimal, "debian"],
      ["bench/debian-curl", curl, "debian-curl"],
    ] as const) {
      const inventory = await sbom.catalogLayers(image.layers, { name });
      const descriptor = {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: image.digest,
        size: image.size,
      };
      await sbom.attachSboms(
        remote.createRegistryEndpoint(client, repository),
        descriptor,
        sbom.sbomReferrers(inventory, { name, digest: image.digest, tool: "strata-bench" }, descriptor),
      );
    }
    let result: Awaited<ReturnType<typeof diff.diffImages>> | undefined;
    const diffMs = await timed(3, async () => {
      result = await diff.diffImages(
        {
          source: diff.sourceFromEndpoint(remote.createRegistryEndpoint(client, "bench/debian")),
          reference: "v1",
          name: "debian",
        },
        {
          source: diff.sourceFromEndpoint(remote.createRegistryEndpoint(client, "bench/debian-curl")),
          reference: "v1",
          name: "debian-curl",
        },
      );
    });
    const diffLocalMs = await timed(3, () =>
      diff.diffImages(
        { source: diff.sourceFromEndpoint(layoutEndpoint), reference: "debian", name: "debian" },
        { source: diff.sourceFromEndpoint(layoutEndpoint), reference: "debian-curl", name: "debian-curl" },
      ),
    );
    const diffRq = await timed(3, () =>
      run("diff", ["-rq", "--no-dereference", roots.minimal, roots.curl], { maxBuffer: 64 * 2 ** 20 }).catch(
        (error: { code?: number }) => {
          if (error.code !== 1) throw error;
        },
      ),
    );
    const p = result?.packages;
    const f = result?.files?.totals;
    console.log(
      `Diff of the two Debian images (${p?.available === true ? `packages +${p.added.length} -${p.removed.length} ~${p.upgraded.length}` : "no packages"}; files +${f?.added.count ?? "?"} -${f?.removed.count ?? "?"} ~${f?.changed.count ?? "?"}): ${ms(diffMs)} from the registry, ${ms(diffLocalMs)} from the layout (target ≤ 2000 ms) ${verdict(diffMs <= 2000)}; diff -rq over the two unpacked roots: ${ms(diffRq)}`,
    );
    allPass &&= diffMs <= 2000;
  } finally {
    await server.stop();
    if (keep === undefined) await rm(work, { recursive: true, force: true });
  }
  console.log(allPass ? "\nEvery target met." : "\nSome targets missed.");
}

await main();
