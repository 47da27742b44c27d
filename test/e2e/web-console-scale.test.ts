// The console on a large gallery in Debian's Chromium, against a real `strata serve`: a
// definition of 2,000 versions pages on the server 50 rows at a time (Next, Previous, Newest,
// filtered by number and state), and an audit log of 100,000 entries pages older and newer and
// filters by actor and action prefix on the server; each page's rows are checked against the
// content that was written, and axe-core finds no serious or critical violation.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { SCALE_AUDIT_START, scaleAuditEntry, scaleVersionNumbers } from "../helpers/scale-content.ts";
import type { RunningStrata } from "../helpers/strata-server.ts";
import {
  BIG_ENTRIES,
  BIG_VERSIONS,
  buildConsoleIfStale,
  CHROMIUM,
  launchChromium,
  signIn,
  startBigServer,
} from "./web-scale-support.ts";
import { checkAccessible as checkPage } from "./web-support.ts";

const WAIT_MS = 20_000;
const MINUTE = 60_000;

/** The console's date column: "YYYY-MM-DD HH:MM UTC". */
const shown = (ms: number): string => new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";

describe(
  "web console on a large gallery in Chromium",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  () => {
    let server: RunningStrata;
    let browser: Browser;
    let page: Page;
    const numbers = scaleVersionNumbers(BIG_VERSIONS);
    const versionRows = () =>
      page.locator("section[aria-labelledby=versions-title] tbody tr td:first-child a").allTextContents();

    const checkAccessible = (what: string) => checkPage(page, what);

    before(async () => {
      buildConsoleIfStale();
      server = await startBigServer();
      browser = await launchChromium();
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.setDefaultNavigationTimeout(WAIT_MS);
      await signIn(page, server.url, "dave");
    });

    after(async () => {
      await browser?.close().catch(() => undefined);
      await server?.stop();
    });

    it("pages a definition of 2,000 versions on the server, forwards, back and to the newest", async () => {
      await page.goto(`${server.url}/galleries/big/images/many`);
      await page.getByRole("heading", { name: `Versions (${BIG_VERSIONS})` }).waitFor();
      await page.getByText(`Page 1 of 40 · ${BIG_VERSIONS} versions`).waitFor();
      assert.deepEqual(await versionRows(), numbers.slice(0, 50));
      await checkAccessible("a definition of 2,000 versions");
      const next = page.getByRole("button", { name: "Next" });
      await next.click();
      await page.getByText(`Page 2 of 40 · ${BIG_VERSIONS} versions`).waitFor();
      assert.deepEqual(await versionRows(), numbers.slice(50, 100));
      await next.click();
      await page.getByText(`Page 3 of 40 · ${BIG_VERSIONS} versions`).waitFor();
      assert.deepEqual(await versionRows(), numbers.slice(100, 150));
      await page.getByRole("button", { name: "Previous" }).click();
      await page.getByText(`Page 2 of 40 · ${BIG_VERSIONS} versions`).waitFor();
      assert.deepEqual(await versionRows(), numbers.slice(50, 100));
      await page.getByRole("button", { name: "Newest versions" }).click();
      await page.getByText(`Page 1 of 40 · ${BIG_VERSIONS} versions`).waitFor();
      assert.deepEqual(await versionRows(), numbers.slice(0, 50));
      // Filtered on the server: 1.5.0 … 1.5.99, two pages.
      await page.getByLabel("Version starts with").fill("1.5.");
      await page.getByText("Page 1 of 2 · 100 versions").waitFor();
      const fives = numbers.filter((n) => n.startsWith("1.5."));
      assert.deepEqual(await versionRows(), fives.slice(0, 50));
      await next.click();
      await page.getByText("Page 2 of 2 · 100 versions").waitFor();
      assert.deepEqual(await versionRows(), fives.slice(50));
      assert.equal(await next.isDisabled(), true);
      await page.getByLabel("State").selectOption("deprecated");
      await page.getByText("No version matches.").waitFor();
      await page.getByText("Page 1 of 1 · 0 versions").waitFor();
    });

    it("pages an audit log of 100,000 entries older and newer, and filters it on the server", async () => {
      await page.goto(`${server.url}/audit?gallery=big`);
      await page.getByRole("heading", { name: "Entries of big" }).waitFor();
      const when = () => page.locator("tbody tr td:first-child").allTextContents();
      // The newest entries are the last written, one a minute.
      const newest = Array.from({ length: 50 }, (_, k) =>
        shown(SCALE_AUDIT_START + (BIG_ENTRIES - 1 - k) * MINUTE),
      );
      await page
        .getByRole("cell", { name: newest[0] ?? "" })
        .first()
        .waitFor();
      assert.deepEqual(await when(), newest);
      await checkAccessible("an audit log of 100,000 entries");
      await page.getByRole("link", { name: "Older" }).click();
      await page.waitForURL(/before=/);
      const older = Array.from({ length: 50 }, (_, k) =>
        shown(SCALE_AUDIT_START + (BIG_ENTRIES - 51 - k) * MINUTE),
      );
      await page
        .getByRole("cell", { name: older[0] ?? "" })
        .first()
        .waitFor();
      assert.deepEqual(await when(), older);
      await page.getByRole("link", { name: "Newer" }).click();
      await page.waitForURL(/after=/);
      await page
        .getByRole("cell", { name: newest[0] ?? "" })
        .first()
        .waitFor();
      assert.deepEqual(await when(), newest);

      // user-07's request.* entries: entry i matches when i ≡ 157 (mod 200).
      await page.getByLabel("Actor").fill("user-07");
      await page.getByLabel("Action").fill("request.");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForURL(/actor=user-07/);
      const matching = (from: number) =>
        Array.from({ length: 50 }, (_, k) => from - 200 * k).map((i) => scaleAuditEntry("big", i));
      const first = matching(BIG_ENTRIES - 43);
      await page.getByRole("cell", { name: shown(first[0]?.at ?? 0) }).waitFor();
      assert.deepEqual(
        await when(),
        first.map((e) => shown(e.at)),
      );
      const actors = await page.locator("tbody tr td:nth-child(2)").allTextContents();
      const actions = await page.locator("tbody tr td:nth-child(3)").allTextContents();
      assert.deepEqual(
        actors,
        first.map((e) => e.actor),
      );
      assert.deepEqual(
        actions,
        first.map((e) => e.action),
      );
      await page.getByRole("link", { name: "Older" }).click();
      const second = matching(BIG_ENTRIES - 43 - 200 * 50);
      await page.getByRole("cell", { name: shown(second[0]?.at ?? 0) }).waitFor();
      assert.deepEqual(
        await when(),
        second.map((e) => shown(e.at)),
      );
    });
  },
);
