// Sprawl: definitions whose content is mostly the same bytes although they live apart (other
// definitions, other galleries), and consecutive versions of a definition that are nearly the
// same. Pure: works on the digests and sizes each version reaches.

export interface VersionContent {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  /** Every digest the version reaches, with its size. */
  readonly sizes: ReadonlyMap<string, number>;
}

export interface SharedDefinitions {
  readonly a: string;
  readonly b: string;
  readonly sharedBytes: number;
  readonly aBytes: number;
  readonly bBytes: number;
  /** sharedBytes over the larger of the two: both are at least this much the same. */
  readonly ratio: number;
}

export interface NearIdentical {
  readonly gallery: string;
  readonly image: string;
  readonly version: string;
  readonly previous: string;
  readonly sameBytes: number;
  readonly ratio: number;
}

/** At least this share of both definitions' bytes in common. */
export const DEFINITION_SHARE = 0.8;
/** At least this share of both versions' bytes the same. */
export const VERSION_SHARE = 0.95;

const sum = (sizes: ReadonlyMap<string, number>): number => {
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
};
const round = (ratio: number): number => Math.round(ratio * 1000) / 1000;

/**
 * Pairs of definitions whose content (the union over their versions) has at least
 * DEFINITION_SHARE of the bytes of each in common.
 */
export function sharedDefinitions(versions: readonly VersionContent[]): SharedDefinitions[] {
  const definitions = new Map<string, Map<string, number>>();
  for (const v of versions) {
    const name = `${v.gallery}/${v.image}`;
    const union = definitions.get(name) ?? new Map<string, number>();
    for (const [digest, size] of v.sizes) union.set(digest, size);
    definitions.set(name, union);
  }
  const holders = new Map<string, string[]>();
  for (const [name, sizes] of definitions)
    for (const digest of sizes.keys()) {
      const list = holders.get(digest);
      if (list === undefined) holders.set(digest, [name]);
      else list.push(name);
    }
  const shared = new Map<string, number>();
  for (const [digest, names] of holders) {
    if (names.length < 2) continue;
    const size = definitions.get(names[0] ?? "")?.get(digest) ?? 0;
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) {
        const key = [names[i], names[j]].sort().join("\n");
        shared.set(key, (shared.get(key) ?? 0) + size);
      }
  }
  const out: SharedDefinitions[] = [];
  for (const [key, sharedBytes] of shared) {
    const [a = "", b = ""] = key.split("\n");
    const aBytes = sum(definitions.get(a) ?? new Map());
    const bBytes = sum(definitions.get(b) ?? new Map());
    const ratio = sharedBytes / Math.max(aBytes, bBytes, 1);
    if (ratio >= DEFINITION_SHARE) out.push({ a, b, sharedBytes, aBytes, bBytes, ratio: round(ratio) });
  }
  return out.sort((x, y) => y.sharedBytes - x.sharedBytes || x.a.localeCompare(y.a));
}

/**
 * Versions whose content is at least VERSION_SHARE the same bytes as the version before them
 * in the same definition. `ordered`: each definition's versions, oldest first.
 */
export function nearIdentical(ordered: readonly VersionContent[]): NearIdentical[] {
  const out: NearIdentical[] = [];
  for (let i = 1; i < ordered.length; i++) {
    const prev = ordered[i - 1];
    const cur = ordered[i];
    if (prev === undefined || cur === undefined) continue;
    if (prev.gallery !== cur.gallery || prev.image !== cur.image) continue;
    let same = 0;
    for (const [digest, size] of cur.sizes) if (prev.sizes.has(digest)) same += size;
    const ratio = same / Math.max(sum(prev.sizes), sum(cur.sizes), 1);
    if (ratio >= VERSION_SHARE)
      out.push({
        gallery: cur.gallery,
        image: cur.image,
        version: cur.version,
        previous: prev.version,
        sameBytes: same,
        ratio: round(ratio),
      });
  }
  return out;
}
