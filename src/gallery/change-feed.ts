// The gallery's change feed: every change this server makes to a gallery, published in memory
// after its transaction commits (an audited change: see context.ts) or as it happens (a copy's
// progress, written by replication). Listeners learn what changed, not the new state; they read
// it again through the API. Changes made by other servers sharing the database are not seen.

/** One change: which gallery, definition and version, and what kind of change. */
export interface GalleryChange {
  /** The audit log's action (`version.published`, `deprecate`, `channel.set`, `request.approved`, …), or `replication` for a copy's state or progress. */
  readonly kind: string;
  readonly gallery: string;
  readonly image?: string;
  readonly version?: string;
  /** What else the change names: a channel, an approval request's id, a site. */
  readonly target?: string;
  readonly at: string;
}

export interface ChangeFeed {
  publish(change: GalleryChange): void;
  /** Calls `listener` with every change published from now on; returns the unsubscribe. */
  subscribe(listener: (change: GalleryChange) => void): () => void;
}

export function createChangeFeed(onError: (err: unknown) => void): ChangeFeed {
  const listeners = new Set<(change: GalleryChange) => void>();
  return {
    publish(change) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (err) {
          onError(err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
