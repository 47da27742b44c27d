// Chain IDs of an image's layers, the names of their unpacked folders: a layer's folder depends on
// the layers below it as well as on its own content, so images that share a chain share folders.
import { createHash } from "node:crypto";

/**
 * The folder names (chain IDs without `sha256:`) of an image's unpacked layers, bottom first:
 * the first layer's diff ID, then sha256 of "PARENT-CHAIN DIFF-ID".
 */
export function layerChains(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let chain = "";
  for (const [i, diffId] of diffIds.entries()) {
    chain = i === 0 ? diffId : `sha256:${createHash("sha256").update(`${chain} ${diffId}`).digest("hex")}`;
    out.push(chain.replace(/^sha256:/, ""));
  }
  return out;
}
