// What the version commands read from the API's ImageVersion answers.
export interface Version extends Record<string, unknown> {
  gallery: string;
  image: string;
  version: string;
  digest: string;
  state: string;
  eol?: string;
  excludeFromLatest: boolean;
  createdAt: string;
  publishedBy: string;
  revocation?: { reason: string; at: string; by: string };
  deletion?: { at: string; by: string; restorableUntil: string };
  /** In the answer of GET of one version. */
  bytes?: { total: number; own: number; shared: number };
  replication?: { site: string; state: string; bytesDone: number; bytesTotal: number; error?: string }[];
  changes?: {
    against: { version?: string; digest: string };
    referrer: string;
    packages?: { added: number; removed: number; upgraded: number; downgraded: number };
    files?: { added: number; removed: number; changed: number };
    config?: string[];
  };
}

/** `gallery/image:version`. */
export const versionName = (v: { gallery: string; image: string; version: string }): string =>
  `${v.gallery}/${v.image}:${v.version}`;
