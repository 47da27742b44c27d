// What the large-gallery console test and `npm run bench:web` share: the console built when its
// build is missing or older than its sources, a real `strata serve` whose data holds a gallery
// "big" with a definition of 2,000 versions and an audit log of 100,000 entries (made by a server
// in this process on the same data folder while the real one is down, then the real one starts
// again on it), Chromium, and signing in.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { authYaml, PASSWORD } from "../helpers/gallery.ts";
import { startInProcess } from "../helpers/in-process.ts";
import { publishMany, writeAuditEntries } from "../helpers/scale-content.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const ROOT = new URL("../..", import.meta.url).pathname;
export const WEB = join(ROOT, "dist", "web");
export const SCALE_USERS = ["alice", "carol", "dave"] as const;
export const BIG_VERSIONS = 2000;
export const BIG_ENTRIES = 100_000;

/** The newest modification time of the console's sources: a build older than it is rebuilt. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function buildConsoleIfStale(): void {
  if (
    existsSync(join(WEB, "index.html")) &&
    newestSource(join(ROOT, "src/web")) <= statSync(join(WEB, "index.html")).mtimeMs
  )
    return;
  const build = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "--config", "src/web/vite.config.ts"],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(build.status, 0, `vite build: ${build.stderr}${build.stdout}`);
}

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

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], timeout: 20_000 });
}

export async function signIn(page: Page, url: string, user: string): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(`Signed in as ${user}`).waitFor();
}
