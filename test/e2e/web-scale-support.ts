// What the large-gallery console test and `npm run bench:web` share: the console built when its
// build is missing or older than its sources, a real `strata serve` whose data holds a gallery
// "big" with a definition of 2,000 versions and an audit log of 100,000 entries (made by a server
// in this process on the same data folder while the real one is down, then the real one starts
// again on it), Chromium, and signing in.
import { authYaml } from "../helpers/gallery.ts";
import { startInProcess } from "../helpers/in-process.ts";
import { publishMany, writeAuditEntries } from "../helpers/scale-content.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

export { buildConsoleIfStale, CHROMIUM, launchChromium, ROOT, signIn, WEB } from "./web-support.ts";

export const SCALE_USERS = ["alice", "carol", "dave"] as const;
export const BIG_VERSIONS = 2000;
export const BIG_ENTRIES = 100_000;

/**
 * A real server whose gallery "big" (alice admin, carol publisher, dave reader) holds the
 * definition "many" with 2,000 versions and an audit log of 100,000 entries.
 */
export async function startBigServer(): Promise<RunningStrata> {
  const yaml = await authYaml([...SCALE_USERS]);
  const server = await startStrata({ config: yaml });
  try {
    await server.kill9();
    const seeder = await startInProcess({ yaml, data: server.dataDir });
    try {
      const gallery = seeder.server.gallery;
      await gallery.galleries.create(
        { user: "alice" },
        { name: "big", description: "A large gallery", members: { carol: "publisher", dave: "reader" } },
      );
      await gallery.images.define({ user: "alice" }, "big", { name: "many", kind: "container" });
      await publishMany(seeder.server, { gallery: "big", image: "many", user: "carol" }, BIG_VERSIONS);
      await writeAuditEntries(seeder.server, "big", BIG_ENTRIES);
    } finally {
      await seeder.stop();
    }
    await server.restart();
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}
