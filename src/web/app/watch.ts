// Which changes of the event stream a page cares about: a page names the gallery, definition and
// version it shows and, if it likes, kinds of change; a change matches when it concerns them.

/** One change, as GET /api/v1/events sends it. */
export interface Change {
  /** The audit log's action (`version.published`, `version.deprecated`, `channel.set`, `request.approved`, …) or `replication`. */
  kind: string;
  gallery: string;
  image?: string;
  version?: string;
  /** A channel, an approval request's id, a replication site. */
  target?: string;
  at: string;
}

/** What a page shows: undefined fields match anything. */
export interface Watch {
  gallery?: string;
  image?: string;
  version?: string;
  /** Kinds of change, by prefix (`request.`, `channel.`); none: every kind. */
  kinds?: readonly string[];
}

export function matches(watch: Watch | undefined, change: Change): boolean {
  if (watch === undefined) return true;
  if (watch.gallery !== undefined && watch.gallery !== change.gallery) return false;
  // A change of the gallery itself (members, settings) matters to every page of it.
  const galleryWide = change.image === undefined;
  if (!galleryWide && watch.image !== undefined && watch.image !== change.image) return false;
  // A page of a version takes the changes of its definition that name no version (settings).
  if (watch.version !== undefined && change.version !== undefined && watch.version !== change.version)
    return false;
  return watch.kinds === undefined || watch.kinds.some((kind) => change.kind.startsWith(kind));
}
