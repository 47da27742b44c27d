// Two images' root filesystems as metadata, each layer streamed once. Layers the two images share
// at the bottom (same diff ID, else same blob digest) give both the same tree, so they are read
// once — and only for the paths the layers above them touch: a path no upper layer of either
// image writes, whites out or lies under (nor a directory above one of those) is the same in
// both results and cannot be part of the diff, so it is neither hashed nor kept. Upper layers
// are read first for that reason; when neither image has any, nothing is read at all.
import { FileTree, type LayerRecord } from "./file-tree.ts";
import { readLayer, type LayerSource, type ReadLayerOptions } from "./layer-reader.ts";

export interface FlattenedPair {
  readonly before: FileTree;
  readonly after: FileTree;
  /** How many bottom layers the two images share (read once, for the touched paths only). */
  readonly sharedLayers: number;
}

const sameLayer = (a: LayerSource, b: LayerSource): boolean =>
  a.diffId !== undefined && b.diffId !== undefined ? a.diffId === b.diffId : a.digest === b.digest;

/** Root-to-leaf prefixes of a path: "a/b/c" → "a", "a/b". */
function ancestors(path: string): string[] {
  const out: string[] = [];
  let at = path.indexOf("/");
  while (at >= 0) {
    out.push(path.slice(0, at));
    at = path.indexOf("/", at + 1);
  }
  return out;
}

async function readAll(
  layers: readonly LayerSource[],
  from: number,
  what: string,
  options: Omit<ReadLayerOptions, "name" | "keep">,
): Promise<LayerRecord[][]> {
  const out: LayerRecord[][] = [];
  for (let i = from; i < layers.length; i++) {
    const layer = layers[i];
    if (layer === undefined) continue;
    out.push(await readLayer(layer, { ...options, name: `${i + 1} of ${what} (${layer.digest})` }));
  }
  return out;
}

/** Flattens the layers of two images, bottom layer first. */
export async function flattenPair(
  before: { readonly name: string; readonly layers: readonly LayerSource[] },
  after: { readonly name: string; readonly layers: readonly LayerSource[] },
  options: Omit<ReadLayerOptions, "name" | "keep"> = {},
): Promise<FlattenedPair> {
  let shared = 0;
  while (
    shared < before.layers.length &&
    shared < after.layers.length &&
    sameLayer(before.layers[shared] as LayerSource, after.layers[shared] as LayerSource)
  )
    shared++;
  // Both images' own layers at once: decompression runs in the thread pool beside the hashing.
  const [upperBefore, upperAfter] = await Promise.all([
    readAll(before.layers, shared, before.name, options),
    readAll(after.layers, shared, after.name, options),
  ]);
  const base = new FileTree();
  if (shared > 0) {
    // What the upper layers touch, and the directories above those paths.
    const touched = new Set<string>();
    const above = new Set<string>();
    for (const layer of [...upperBefore, ...upperAfter])
      for (const record of layer) {
        touched.add(record.path);
        if (
          record.kind === "entry" &&
          record.entry.type === "hardlink" &&
          record.entry.linkTarget !== undefined
        )
          touched.add(record.entry.linkTarget);
      }
    for (const path of touched) for (const dir of ancestors(path)) above.add(dir);
    const keep = (path: string): boolean =>
      touched.has(path) || above.has(path) || ancestors(path).some((dir) => touched.has(dir));
    if (touched.size > 0)
      for (let i = 0; i < shared; i++) {
        const layer = before.layers[i] as LayerSource;
        const records = await readLayer(layer, {
          ...options,
          keep,
          name: `${i + 1} of ${before.name} and ${after.name} (${layer.digest})`,
        });
        base.applyLayer(records);
      }
  }
  const treeBefore = base.clone();
  for (const layer of upperBefore) treeBefore.applyLayer(layer);
  const treeAfter = base;
  for (const layer of upperAfter) treeAfter.applyLayer(layer);
  return { before: treeBefore, after: treeAfter, sharedLayers: shared };
}

/** One image's root filesystem, flattened. */
export async function flattenImage(
  layers: readonly LayerSource[],
  name: string,
  options: Omit<ReadLayerOptions, "name" | "keep"> = {},
): Promise<FileTree> {
  const tree = new FileTree();
  for (const records of await readAll(layers, 0, name, options)) tree.applyLayer(records);
  return tree;
}
