// Writes a layer: the written paths of a change set (in full) and its whiteouts, as a gzip
// tar in name order, with modification times clamped to the build's epoch
// (SOURCE_DATE_EPOCH), no user or group names, and ownership kept or normalised to root —
// so the same inputs give the same bytes, the same diffID and the same digest.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";
import type { Changes } from "./diff.ts";
import type { EntryState, Snapshot } from "./snapshot.ts";

export interface LayerOptions {
  /** Seconds since the epoch; later modification times are clamped to it. */
  readonly epoch?: number;
  /** "root": every entry owned by 0:0; "keep" (default): owners as in the tree. */
  readonly ownership?: "keep" | "root";
  /** gzip level (default 6). */
  readonly level?: number;
}

export interface WrittenLayer {
  readonly path: string;
  /** sha256 of the compressed blob. */
  readonly digest: string;
  /** sha256 of the uncompressed tar. */
  readonly diffId: string;
  readonly size: number;
  readonly entries: number;
}

class Hasher extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export const WHITEOUT_PREFIX = ".wh.";

function whiteoutName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0
    ? `${WHITEOUT_PREFIX}${path}`
    : `${path.slice(0, slash)}/${WHITEOUT_PREFIX}${path.slice(slash + 1)}`;
}

export async function writeLayer(
  root: string,
  after: Snapshot,
  changes: Changes,
  dest: string,
  options: LayerOptions = {},
): Promise<WrittenLayer> {
  const epochMs = options.epoch === undefined ? undefined : options.epoch * 1000;
  const mtimeOf = (state: EntryState): Date => {
    const ms = Number(BigInt(state.mtimeNs) / 1_000_000n);
    return new Date(epochMs === undefined ? ms : Math.min(ms, epochMs));
  };
  const owner = (state: EntryState) =>
    options.ownership === "root" ? { uid: 0, gid: 0 } : { uid: state.uid, gid: state.gid };

  type Item = { name: string; whiteout: boolean; path: string };
  const items: Item[] = [
    ...changes.deleted.map((path) => ({ name: whiteoutName(path), whiteout: true, path })),
    ...changes.written.map((path) => ({ name: path, whiteout: false, path })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const tar = pack();
  const tarHash = new Hasher();
  const blobHash = new Hasher();
  const written = pipeline(
    tar,
    tarHash,
    createGzip({ level: options.level ?? 6, chunkSize: 256 * 1024 }),
    blobHash,
    createWriteStream(dest),
  );

  const firstOfInode = new Map<string, string>();
  // A file entry's body is streamed in; other entries (and empty whiteout files) have none.
  const entry = (
    header: Parameters<ReturnType<typeof pack>["entry"]>[0],
    body?: NodeJS.ReadableStream,
  ): Promise<void> =>
    new Promise((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body === undefined) {
        if (header.type === "file") tar.entry(header, Buffer.alloc(0), done);
        else tar.entry(header, done);
        return;
      }
      const sink = tar.entry(header, done);
      body.on("error", reject);
      body.pipe(sink);
    });

  const feed = (async () => {
    for (const item of items) {
      if (item.whiteout) {
        await entry({
          name: item.name,
          type: "file",
          size: 0,
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: new Date(epochMs ?? 0),
        });
        continue;
      }
      const state = after.get(item.path);
      if (state === undefined) throw new Error(`"${item.path}" is not in the snapshot`);
      const base = {
        name: item.path,
        mode: state.mode,
        ...owner(state),
        uname: "",
        gname: "",
        mtime: mtimeOf(state),
      };
      if (state.type === "directory") {
        await entry({ ...base, type: "directory" });
      } else if (state.type === "symlink") {
        await entry({ ...base, type: "symlink", linkname: state.linkname ?? "" });
      } else if (state.type === "fifo") {
        await entry({ ...base, type: "fifo" });
      } else {
        const first = state.nlink > 1 ? firstOfInode.get(state.inode) : undefined;
        if (first !== undefined) {
          await entry({ ...base, type: "link", linkname: first });
          continue;
        }
        if (state.nlink > 1) firstOfInode.set(state.inode, item.path);
        await entry({ ...base, type: "file", size: state.size }, createReadStream(join(root, item.path)));
      }
    }
    tar.finalize();
  })();
  try {
    await Promise.all([feed, written]);
  } catch (error) {
    tar.destroy();
    throw error;
  }
  return {
    path: dest,
    digest: `sha256:${blobHash.hash.digest("hex")}`,
    diffId: `sha256:${tarHash.hash.digest("hex")}`,
    size: blobHash.bytes,
    entries: items.length,
  };
}
