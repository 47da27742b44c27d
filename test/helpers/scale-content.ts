// Content of a large gallery, made quickly through the gallery service and store of a server in
// this process: one image pushed through the registry and pinned by thousands of versions (a
// few published by the publish operation, the rest written as the rows it writes), and an audit
// log of any length written to the store's table in batches (append-only data: its entries are
// what changes write, made here without making the changes one by one).
import type { StrataServer } from "../../src/server/index.ts";
import { pushImage } from "./gallery.ts";

export const SCALE_ACTORS = 50;
export const SCALE_IMAGES = 20;
export const SCALE_ACTIONS = [
  "version.published",
  "version.deprecated",
  "version.updated",
  "channel.moved",
  "channel.rolled-back",
  "request.created",
  "request.approved",
  "gallery.updated",
] as const;
/** When the generated audit log starts (a minute between entries). */
export const SCALE_AUDIT_START = Date.parse("2025-01-01T00:00:00Z");
const MINUTE = 60_000;

/** The `count` highest-first version numbers 1.0.0 …: majors of 1,000, minors of 100. */
export function scaleVersionNumbers(count: number): string[] {
  const numbers: string[] = [];
  for (let i = 0; i < count; i++)
    numbers.push(`${1 + Math.floor(i / 1000)}.${Math.floor(i / 100) % 10}.${i % 100}`);
  return numbers.reverse();
}

/**
 * Gives gallery/image (which exist) `count` versions pinning one image pushed through the
 * registry; returns their numbers highest first. The first `published` go through the publish
 * operation (row, audit entry, tag, computed changes); the rest are written as the rows that
 * operation writes, in batches: publishing thousands one by one costs a minute a database, and
 * what large definitions exercise (listing and paging) reads the rows only. Those versions have
 * no registry tag of their own; pulls by digest work.
 */
export async function publishMany(
  server: StrataServer,
  target: { gallery: string; image: string; user: string },
  count: number,
  published = 10,
): Promise<string[]> {
  const repository = `builds/${target.gallery}-${target.image}`;
  const digest = await pushImage(server.app, repository, "scale", `${target.gallery}/${target.image}`, {
    user: target.user,
  });
  const numbers = scaleVersionNumbers(count);
  const ascending = [...numbers].reverse();
  for (const version of ascending.slice(0, published)) {
    await server.gallery.versions.publish({ user: target.user }, target.gallery, target.image, {
      version,
      from: `${repository}@${digest}`,
    });
  }
  const first = await server.gallery.versions.get(
    { user: target.user },
    target.gallery,
    target.image,
    ascending[0] ?? "",
  );
  const now = server.gallery.now();
  const BATCH = 200;
  const rest = ascending.slice(published);
  for (let start = 0; start < rest.length; start += BATCH) {
    const rows = rest.slice(start, start + BATCH).map((version, i) => {
      const [major = 0, minor = 0, patch = 0] = version.split(".").map(Number);
      return {
        gallery: target.gallery,
        image: target.image,
        version,
        major,
        minor,
        patch,
        digest,
        media_type: first.mediaType,
        metadata: JSON.stringify({ buildId: `build-${version}` }),
        base_digest: null,
        state: "published",
        eol: null,
        exclude_from_latest: 0,
        approvals: "[]",
        deprecation: null,
        revoke_reason: null,
        revoke_at: null,
        revoked_by: null,
        deleted_at: null,
        deleted_by: null,
        state_before_delete: null,
        restored_at: null,
        created_at: now - (rest.length - start - i) * 1000,
        published_by: target.user,
      };
    });
    await server.gallery.db.insertInto("gallery_versions").values(rows).execute();
  }
  return numbers;
}

/** The i-th generated audit entry's fields (i from 0, oldest first). */
export function scaleAuditEntry(gallery: string, i: number) {
  const image = `def-${String(i % SCALE_IMAGES).padStart(2, "0")}`;
  return {
    at: SCALE_AUDIT_START + i * MINUTE,
    actor: `user-${String(i % SCALE_ACTORS).padStart(2, "0")}`,
    action: SCALE_ACTIONS[i % SCALE_ACTIONS.length] ?? "gallery.updated",
    gallery,
    image,
    version: `1.${i % 7}.${i % 100}`,
    target: null,
    before: null,
    after: JSON.stringify({ n: i }),
  };
}

/** Appends `count` entries to a gallery's audit log in batches, oldest first. */
export async function writeAuditEntries(server: StrataServer, gallery: string, count: number): Promise<void> {
  const BATCH = 500;
  for (let start = 0; start < count; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) rows.push(scaleAuditEntry(gallery, i));
    // The id is the database's (as in context.ts's audit()), which the row type cannot say.
    await server.gallery.db
      .insertInto("gallery_audit")
      .values(rows as never)
      .execute();
  }
}
