// The SBOMs a build attaches: the image's packages cataloged from its layers (read once, not
// unpacked) and written as SPDX 2.3 and CycloneDX 1.6 in-toto statements, each an OCI referrer
// of the image. Built before anything is written, so a database that cannot be read stops the
// build with nothing half-attached.
import type { Image } from "../builder/runtime.ts";
import type { ImageDescriptor, Inventory, SbomReferrer } from "../sbom/index.ts";
import type { RegistryClient } from "../remote/index.ts";
import { VERSION } from "./version.ts";

export interface ImageSboms {
  readonly inventory: Inventory;
  readonly referrers: readonly SbomReferrer[];
}

/** The image's inventory and its two SBOM referrers, for the image `subject` named `name`. */
export async function imageSboms(image: Image, name: string, subject: ImageDescriptor): Promise<ImageSboms> {
  const sbom = await import("../sbom/index.ts");
  const inventory = await sbom.catalogLayers(
    image.layers.map((l) => ({ path: l.path, digest: l.digest })),
    { name },
  );
  const referrers = sbom.sbomReferrers(
    inventory,
    {
      name,
      digest: subject.digest,
      ...(image.config.created === undefined ? {} : { created: image.config.created }),
      tool: `strata-${VERSION}`,
    },
    subject,
  );
  return { inventory, referrers };
}

/** Pushes the SBOM referrers of `subject` to `repository`; how the registry indexed each. */
export async function pushSboms(
  client: RegistryClient,
  repository: string,
  subject: string,
  referrers: readonly SbomReferrer[],
): Promise<("api" | "tag")[]> {
  const { pushReferrer } = await import("../remote/index.ts");
  const indexed: ("api" | "tag")[] = [];
  for (const referrer of referrers)
    indexed.push((await pushReferrer(client, repository, { digest: subject }, referrer)).indexed);
  return indexed;
}

/** The summary a build prints: each format's referrer digest and the package count. */
export function sbomSummary(sboms: ImageSboms): { spdx: string; cyclonedx: string; packages: number } {
  const [spdx, cyclonedx] = sboms.referrers;
  return {
    spdx: spdx?.digest ?? "",
    cyclonedx: cyclonedx?.digest ?? "",
    packages: sboms.inventory.packages.length,
  };
}
