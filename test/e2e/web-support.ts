// What the console's browser tests (and `npm run bench:web`) share: the console built when its
// build is missing or older than its sources, Debian's Chromium through playwright-core, signing
// in through the console's own form, and content made through the public API and registry with
// Basic credentials.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { MediaType } from "../../src/oci/index.ts";
import { PASSWORD } from "../helpers/gallery.ts";
import { buildImage, buildLayer, type TestImage } from "../helpers/images.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const ROOT = new URL("../..", import.meta.url).pathname;
export const WEB = join(ROOT, "dist", "web");
export const WAIT_MS = 20_000;

export const basic = (user: string): string =>
  `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`;

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

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], timeout: WAIT_MS });
}

/** axe-core in the page: no serious or critical violation. */
export async function checkAccessible(page: Page, what: string): Promise<void> {
  const source = await readFile(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} ×${v.nodes.length}`);
  });
  assert.deepEqual(violations, [], `axe on ${what}`);
}

export async function signIn(page: Page, url: string, user: string): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel("User name").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText(`Signed in as ${user}`).waitFor();
}

/** A call to the gallery API as `user` (Basic credentials): its status and parsed body. */
export async function apiCall(
  url: string,
  user: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      authorization: basic(user),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** The same, asserting it succeeded: the parsed body. */
export async function apiOk(
  url: string,
  user: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown> | undefined> {
  const res = await apiCall(url, user, method, path, body);
  assert.ok(res.status < 300, `${method} ${path} as ${user}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Pushes an image as `user` (alice by default): its blobs, then its manifest under `tag`. */
export async function pushImage(
  url: string,
  repository: string,
  tag: string,
  image: TestImage,
  user = "alice",
): Promise<string> {
  for (const [digest, blob] of image.blobs) {
    const res = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      headers: { authorization: basic(user), "content-type": "application/octet-stream" },
      body: blob,
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.equal(res.status, 201, `blob push: ${await res.text()}`);
  }
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { authorization: basic(user), "content-type": MediaType.ImageManifest },
    body: image.manifest,
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.equal(res.status, 201, `manifest push: ${await res.text()}`);
  return image.manifestDigest;
}

/** A one-layer image whose /etc/release says `name`. */
export async function releaseImage(name: string): Promise<TestImage> {
  const layer = await buildLayer([
    { name: "etc/", type: "directory" },
    { name: "etc/release", type: "file", content: Buffer.from(`${name}\n`) },
  ]);
  return buildImage({ layers: [layer], platform: { os: "linux", architecture: "amd64" } });
}
