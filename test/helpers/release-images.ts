// Runnable release images for gallery tests: the busybox image with one more layer holding
// /etc/release (its text differs per release), optionally naming a base image digest.
import { buildBusyboxImage } from "./busybox-layout.ts";
import { buildImage, buildLayer, type TestImage } from "./images.ts";

export const BASE_DIGEST = "org.opencontainers.image.base.digest";

export async function buildReleaseImage(
  release: string,
  options: { baseDigest?: string } = {},
): Promise<TestImage> {
  const busybox = await buildBusyboxImage();
  const layer = await buildLayer([
    { name: "etc/", type: "directory" },
    { name: "etc/release", type: "file", content: Buffer.from(`${release}\n`) },
  ]);
  return buildImage({
    layers: [...busybox.layers, layer],
    platform: { os: "linux", architecture: process.arch === "x64" ? "amd64" : process.arch },
    execution: { Env: ["PATH=/bin"], Cmd: ["/bin/cat", "/etc/release"], WorkingDir: "/" },
    ...(options.baseDigest === undefined ? {} : { annotations: { [BASE_DIGEST]: options.baseDigest } }),
  });
}
