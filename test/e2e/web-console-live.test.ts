// The web console stays current without a reload, in Debian's Chromium (playwright-core) against
// a real `strata serve`: with polling turned off through the console's own setting
// (localStorage strata.pollSeconds = 0), only the event stream can bring a change to an open
// page. A publisher keeps one tab open while the CLI publishes a version, the publisher asks to
// promote it to a restricted channel (the pending request appears on the definition's
// page), a second user approves it through the CLI (the request goes away and the channel
// moves); on a version's page a request naming it appears and goes away when rejected; and the
// CLI deprecates that version. The page is never reloaded (a marker set in the page
// survives), and reads of unchanged answers come back as 304.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { runStrata } from "../helpers/cli-run.ts";
import { authYaml, PASSWORD } from "../helpers/gallery.ts";
import { type TestImage } from "../helpers/images.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";
import {
  CHROMIUM,
  WAIT_MS,
  apiOk as apiOkAt,
  buildConsoleIfStale,
  launchChromium,
  pushImage,
  releaseImage,
} from "./web-support.ts";

// The page's globals, for the functions evaluated in Chromium (the tests compile without DOM types).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const localStorage: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

describe(
  "web console live updates in Chromium",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  () => {
    let server: RunningStrata;
    let browser: Browser;
    let page: Page;
    const statuses: number[] = [];
    const digests: Record<string, string> = {};

    const cli = async (user: string, args: string[]): Promise<string> => {
      const result = await runStrata(args, {
        STRATA_USERNAME: user,
        STRATA_PASSWORD: PASSWORD,
        STRATA_SERVER: server.url,
      });
      assert.equal(result.code, 0, `strata ${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };

    const apiOk = (user: string, method: string, path: string, body?: unknown) =>
      apiOkAt(server.url, user, method, path, body);

    const push = (repository: string, tag: string, image: TestImage) =>
      pushImage(server.url, repository, tag, image);

    const release = releaseImage;

    /** The page was not reloaded since the marker was set (a reload clears page globals). */
    async function notReloaded(): Promise<void> {
      assert.equal(await page.evaluate(() => window.__liveMarker), "set", "the page was reloaded");
    }

    before(async () => {
      buildConsoleIfStale();
      server = await startStrata({ config: await authYaml(["alice", "bob", "carol"]) });
      await apiOk("alice", "POST", "/galleries", {
        name: "demo",
        members: { bob: "approver", carol: "publisher" },
      });
      await apiOk("alice", "POST", "/galleries/demo/images", { name: "web", kind: "container" });
      for (const version of ["1.0.0", "1.1.0"])
        digests[version] = await push("builds/web", `v${version}`, await release(`web ${version}`));
      await apiOk("carol", "POST", "/galleries/demo/images/web/versions", {
        version: "1.0.0",
        from: `builds/web@${digests["1.0.0"]}`,
      });
      await apiOk("alice", "PUT", "/galleries/demo/images/web/channels/production", {
        version: "1.0.0",
        restricted: true,
        approvals: 1,
      });

      browser = await launchChromium();
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      // Polling off: from here on only the event stream can bring a change to an open page.
      await context.addInitScript(() => localStorage.setItem("strata.pollSeconds", "0"));
      page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on("response", (res) => {
        if (res.url().includes("/api/v1/") && res.request().method() === "GET") statuses.push(res.status());
      });
      await page.goto(`${server.url}/sign-in`);
      await page.getByLabel("User name").fill("carol");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText("Signed in as carol").waitFor();
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      await server?.stop();
    });

    it("shows a version the CLI publishes on the open definition page, with polling off", async () => {
      await page.getByRole("link", { name: "demo", exact: true }).click();
      await page.getByRole("link", { name: "web", exact: true }).click();
      await page.getByRole("heading", { name: "demo/web" }).waitFor();
      // Polling is off, and the stream is open.
      await page.getByText(/Updated .* · live$/).waitFor();
      await page.evaluate(() => {
        window.__liveMarker = "set";
      });
      const versions = page.getByRole("region", { name: /^Versions/ });
      assert.equal(await versions.getByRole("link", { name: "1.1.0", exact: true }).count(), 0);
      await cli("carol", [
        "version",
        "publish",
        "demo/web",
        "1.1.0",
        "--from",
        `builds/web@${digests["1.1.0"]}`,
      ]);
      await versions.getByRole("link", { name: "1.1.0", exact: true }).waitFor();
      await notReloaded();
      // What had not changed came back as 304.
      assert.ok(statuses.includes(304), `GET statuses: ${statuses.join(", ")}`);
    });

    it("shows a pending promotion, then the approval by another user, without a reload", async () => {
      await apiOk("carol", "POST", "/promotions", {
        gallery: "demo",
        image: "web",
        version: "1.1.0",
        channel: "production",
      });
      const pending = page.getByRole("region", { name: "Waiting for approval" });
      await pending.getByText("0 of 1 approval").waitFor();
      assert.match((await pending.textContent()) ?? "", /1\.1\.0 to channel production · asked by carol/);
      await notReloaded();
      const requests = JSON.parse(await cli("bob", ["requests", "--json"])) as {
        id: string;
        state: string;
      }[];
      const request = requests.find((r) => r.state === "pending");
      assert.ok(request !== undefined, JSON.stringify(requests));
      await cli("bob", ["approve", request.id, "--comment", "ship it"]);
      // The request is applied: it goes away, and the channel points at 1.1.0.
      await pending.waitFor({ state: "detached" });
      const channels = page.getByRole("region", { name: "Channels" });
      await channels
        .getByRole("row", { name: /production/ })
        .getByRole("link", { name: "1.1.0" })
        .waitFor();
      await notReloaded();
    });

    it("shows a deprecation made by the CLI on the open version page", async () => {
      await page
        .getByRole("region", { name: /^Versions/ })
        .getByRole("link", { name: "1.0.0", exact: true })
        .click();
      await page.getByRole("heading", { name: "demo/web:1.0.0" }).waitFor();
      await page.getByText(/Updated .* · live$/).waitFor();
      // A request naming this version shows on its page, and goes away when it is rejected.
      await apiOk("carol", "POST", "/promotions", {
        gallery: "demo",
        image: "web",
        version: "1.0.0",
        channel: "production",
      });
      const pending = page.getByRole("region", { name: "Waiting for approval" });
      await pending.getByText("0 of 1 approval").waitFor();
      const requests = JSON.parse(await cli("bob", ["requests", "--json", "--state", "pending"])) as {
        id: string;
      }[];
      assert.equal(requests.length, 1);
      await cli("bob", ["reject", requests[0]?.id ?? "", "--reason", "stay on 1.1.0"]);
      await pending.waitFor({ state: "detached" });
      assert.equal(await page.locator(".badge.state-deprecated").count(), 0);
      await cli("alice", ["version", "deprecate", "demo/web", "1.0.0", "--reason", "use 1.1.0"]);
      await page.locator(".badge.state-deprecated").first().waitFor();
      await notReloaded();
    });
  },
);
