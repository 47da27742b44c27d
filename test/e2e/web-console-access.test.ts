// The console's access slice in Debian's Chromium (driven by playwright-core) against real
// `strata serve` processes: with `auth.anonymous: read` the console opens without sign-in on the
// galleries, read only (no member names, no action, pulls and the audit log left to members, a
// "Sign in" link), and the version page shows each signature verified by the server against the
// gallery's keys — the gallery's own verified, one by a key it does not know not verified, with
// the reason; an admin deletes a tag of a plain repository on the registry page behind a
// confirmation that says the manifest stays, and a user without the delete action is offered no
// delete; without anonymous reads the console starts on the sign-in page. axe-core finds no
// serious or critical violation on the pages walked. The console is built first when dist/web is
// missing or older than its sources.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { MediaType } from "../../src/oci/index.ts";
import { hashPassword } from "../../src/registry/index.ts";
import { createRegistryEndpoint, RegistryClient } from "../../src/remote/index.ts";
import { generateSigningKey, signImage } from "../../src/sign/index.ts";
import { PASSWORD } from "../helpers/gallery.ts";
import { type TestImage } from "../helpers/images.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";
import {
  apiOk,
  basic,
  buildConsoleIfStale,
  checkAccessible,
  CHROMIUM,
  launchChromium,
  pushImage,
  releaseImage,
  signIn as signInAt,
  WAIT_MS,
} from "./web-support.ts";

// The page's globals, for the functions evaluated in Chromium (the tests compile without DOM types).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** alice may do everything in the registry, rita may only pull; anonymous callers as given. */
async function config(anonymous: "read" | "none", extra: string[] = []): Promise<string> {
  const hash = await hashPassword(PASSWORD, { logN: 10 });
  return [
    "auth:",
    `  anonymous: ${anonymous}`,
    "  users:",
    `    alice: { password: "${hash}" }`,
    `    rita: { password: "${hash}" }`,
    "  access:",
    '    - { repositories: ["**"], users: [alice], actions: [pull, push, delete] }',
    '    - { repositories: ["**"], users: [rita], actions: [pull] }',
    ...extra,
    "",
  ].join("\n");
}

describe(
  "web console access in Chromium",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  () => {
    let server: RunningStrata;
    let closed: RunningStrata;
    let keys = "";
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    const stranger = generateSigningKey();
    let tools: { v1: string; v2: string };

    const api = (user: string, method: string, path: string, body?: unknown) =>
      apiOk(server.url, user, method, path, body);

    const push = (repository: string, tag: string, image: TestImage) =>
      pushImage(server.url, repository, tag, image);

    const image = releaseImage;

    async function registry(user: string, path: string, method = "GET") {
      return fetch(`${server.url}/v2/${path}`, {
        method,
        headers: { authorization: basic(user), accept: MediaType.ImageManifest },
        signal: AbortSignal.timeout(WAIT_MS),
      });
    }

    async function newPage(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.setDefaultNavigationTimeout(WAIT_MS);
      return page;
    }

    const signIn = (page: Page, user: string) => signInAt(page, server.url, user);

    before(async () => {
      buildConsoleIfStale();
      keys = await mkdtemp(join(tmpdir(), "strata-web-access-keys-"));
      const galleryKey = generateSigningKey();
      await writeFile(join(keys, "demo.key"), galleryKey.privateKey.export({ type: "pkcs8", format: "pem" }));
      server = await startStrata({
        config: await config("read", [
          "gallery:",
          "  signing:",
          `    demo: { key: ${JSON.stringify(join(keys, "demo.key"))} }`,
        ]),
      });
      closed = await startStrata({ config: await config("none") });
      browser = await launchChromium();

      // A gallery that signs what it receives, with rita a reader; its version 1.0.0 carries the
      // gallery's signature and one by a key the gallery does not know.
      const digest = await push("builds/web", "v1", await image("web 1.0.0"));
      await api("alice", "POST", "/galleries", {
        name: "demo",
        description: "The demo team's images",
        members: { rita: "reader" },
      });
      await api("alice", "POST", "/galleries/demo/images", { name: "web", kind: "container" });
      await api("alice", "POST", "/galleries/demo/images/web/versions", {
        version: "1.0.0",
        from: `builds/web@${digest}`,
      });
      const client = new RegistryClient({
        registry: new URL(server.url).host,
        credentials: { username: "alice", password: PASSWORD },
        insecure: true,
      });
      await signImage(createRegistryEndpoint(client, "demo/web"), digest, stranger);
      // A plain repository with two tags.
      tools = {
        v1: await push("tools/app", "v1", await image("tools v1")),
        v2: await push("tools/app", "v2", await image("tools v2")),
      };
    });

    after(async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser?.close().catch(() => undefined);
      await server?.stop();
      await closed?.stop();
      if (keys !== "") await rm(keys, { recursive: true, force: true });
    });

    it("opens on the galleries without sign-in where anonymous reads are granted, read only", async () => {
      const page = await newPage();
      await page.goto(`${server.url}/`);
      await page.getByRole("heading", { name: "Galleries" }).waitFor();
      await page.getByText("You are not signed in", { exact: false }).waitFor();
      await page.getByRole("row", { name: /^demo The demo team's images enforce — —$/ }).waitFor();
      const header = page.locator("header");
      await header.getByText("Anonymous, read only").waitFor();
      await header.getByRole("link", { name: "Sign in" }).waitFor();
      // The change stream is open to anonymous readers too (and its refusal would have opened
      // the browser's password prompt over the page, had it carried a Basic challenge).
      await page.getByText("live, and checked every", { exact: false }).waitFor();
      // Only the pages the API answers anonymous callers.
      const nav = page.getByRole("navigation", { name: "Main" });
      assert.deepEqual(await nav.getByRole("link").allTextContents(), ["Galleries", "Registry"]);
      await checkAccessible(page, "anonymous galleries");

      await page.getByRole("link", { name: "demo", exact: true }).click();
      await page.getByRole("heading", { name: "demo", exact: true }).waitFor();
      await page.getByText("Members are shown to the gallery's members only.").waitFor();
      assert.equal(await page.getByRole("link", { name: "Audit log of this gallery" }).count(), 0);

      await page.goto(`${server.url}/galleries/demo/images/web/versions/1.0.0`);
      const signatures = page.locator("section[aria-labelledby=signatures-title]");
      await signatures.getByText("Verified: at least one signature is valid", { exact: false }).waitFor();
      await signatures.getByRole("row", { name: /verified with the gallery's signing key/ }).waitFor();
      const unknown = signatures.getByRole("row", { name: new RegExp(stranger.keyId) });
      await unknown.getByText("not verified").waitFor();
      await unknown.getByText(": unknown key", { exact: false }).waitFor();
      await page
        .locator("section[aria-labelledby=pulls-title]")
        .getByText("Pull counts are shown to the gallery's members", { exact: false })
        .waitFor();
      assert.equal(await page.getByRole("button", { name: /Deprecate|Revoke|Delete|Restore/ }).count(), 0);
      assert.equal(await page.getByRole("alert").count(), 0, "no page part was refused");
      await checkAccessible(page, "anonymous version page");

      // The header's link leads to the sign-in page, which offers the way back.
      await header.getByRole("link", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByRole("link", { name: "browse them read only" }).waitFor();
    });

    it("starts on the sign-in page where anonymous reads are not granted", async () => {
      const page = await newPage();
      await page.goto(`${closed.url}/`);
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByLabel("User name").waitFor();
      assert.equal(await page.getByRole("link", { name: "browse them read only" }).count(), 0);
      assert.equal(await page.getByText("Anonymous, read only").count(), 0);
    });

    it("lets an admin delete a tag behind a confirmation that says the manifest stays", async () => {
      const page = await newPage();
      await signIn(page, "alice");
      await page.goto(`${server.url}/registry?repository=tools/app`);
      await page.getByRole("heading", { name: "tools/app" }).waitFor();
      await page.getByText("Your access here: pull, push, delete.").waitFor();
      await page.getByRole("row", { name: /^v1 sha256:[0-9a-f]{12}… Delete tag v1$/ }).waitFor();
      await page.getByRole("button", { name: "Delete tag v1" }).click();
      const dialog = page.getByRole("dialog", { name: "Delete tag tools/app:v1?" });
      await dialog.getByText("stays in the repository, pullable by its digest", { exact: false }).waitFor();
      await checkAccessible(page, "tag delete confirmation");
      await dialog.getByRole("button", { name: "Delete tag" }).click();
      await page.getByRole("status").getByText("Tag tools/app:v1 is deleted.").waitFor();
      await page.getByRole("row", { name: /^v2 / }).waitFor();
      assert.equal(await page.getByRole("row", { name: /^v1 / }).count(), 0);
      const tags = (await (await registry("alice", "tools/app/tags/list")).json()) as { tags: string[] };
      assert.deepEqual(tags.tags, ["v2"]);
      assert.equal((await registry("alice", `tools/app/manifests/${tools.v1}`, "HEAD")).status, 200);
      assert.equal((await registry("alice", "tools/app/manifests/v1", "HEAD")).status, 404);
    });

    it("offers no delete to a user without the delete action", async () => {
      const page = await newPage();
      await signIn(page, "rita");
      await page.goto(`${server.url}/registry?repository=tools/app`);
      await page.getByText("Your access here: pull; deleting a tag takes the delete action.").waitFor();
      await page.getByRole("row", { name: /^v2 sha256:[0-9a-f]{12}…$/ }).waitFor();
      assert.equal(await page.getByRole("button", { name: /Delete/ }).count(), 0);
      // The registry refuses it anyway, from the page with the session's token.
      const status = await page.evaluate(async () => {
        const session = await (await window.fetch("/api/v1/session")).json();
        const res = await window.fetch("/v2/tools/app/manifests/v2", {
          method: "DELETE",
          headers: { "x-csrf-token": session.csrfToken },
        });
        return res.status as number;
      });
      assert.equal(status, 403);
      assert.equal((await registry("alice", "tools/app/manifests/v2", "HEAD")).status, 200);
      assert.equal((await registry("alice", `tools/app/manifests/${tools.v2}`, "HEAD")).status, 200);
    });
  },
);
