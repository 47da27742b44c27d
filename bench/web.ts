// `npm run bench:web`: how quickly the web console is usable on loopback, on a large gallery.
//
// A real `strata serve` holds a gallery with a definition of 2,000 versions and an audit log of
// 100,000 entries (made as the browser test makes them, not timed); Debian's Chromium (driven by
// playwright-core) signs in as a reader and, each the median of several runs, measures in the
// page from the start of navigation (the page's own clock, performance.now()):
//   - the first page usable: the galleries list rendered and its first link focusable, cold (a
//     fresh browser context: empty cache, the session cookie only) and warm (the same context
//     again: the hashed assets cached);
//   - the definition page with 2,000 versions until its first 50 rows show, and Next until the
//     second page shows (from the click);
//   - the audit page of 100,000 entries until its first rows show, unfiltered and filtered on the
//     server by actor and action prefix; and the filtered API query alone (from Node);
//   - the first load's compressed bytes (index.html's script and stylesheet, gzip -9).
// Targets (issue 17): first page usable ≤ 1 s on loopback, first load ≤ 250 KB. Figures are
// reported, not asserted. No other registry's console runs here, so there is no peer figure.
//
//   npm run bench:web [-- --runs N]
import { readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PASSWORD, basic } from "../test/helpers/gallery.ts";
import {
  BIG_ENTRIES,
  BIG_VERSIONS,
  buildConsoleIfStale,
  launchChromium,
  startBigServer,
  WEB,
} from "../test/e2e/web-scale-support.ts";

const FIRST_PAGE_TARGET_MS = 1000;
const FIRST_LOAD_TARGET = 250 * 1024;

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}
const RUNS = Number(arg("--runs") ?? 7);

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const ms = (value: number): string => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
const verdict = (pass: boolean): string => (pass ? "PASS" : "FAIL");

// The page's globals, for the functions evaluated in Chromium (this file compiles without DOM types).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const performance: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A context signed in as `user` through the API (the cookie only: nothing of the console cached). */
async function signedInContext(browser: Browser, url: string, user: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const res = await context.request.post(`${url}/api/v1/session`, {
    data: { username: user, password: PASSWORD },
    headers: { "x-requested-with": "bench" },
  });
  if (!res.ok()) throw new Error(`sign-in: ${res.status()} ${await res.text()}`);
  return context;
}

/**
 * What makes a page ready: the galleries list's first link focusable, or a text shown and at
 * least `rows` table rows. Checked in the page (functions, not strings: the CSP refuses eval).
 */
interface Ready {
  readonly focusLink?: boolean;
  readonly text?: string;
  readonly rows?: number;
}

function readyAt(ready: Ready): number | false {
  if (ready.focusLink === true) {
    const a = document.querySelector("main table a");
    if (a === null) return false;
    a.focus();
    if (document.activeElement !== a) return false;
  }
  if (ready.text !== undefined && !(document.body.innerText as string).includes(ready.text)) return false;
  if (ready.rows !== undefined && document.querySelectorAll("main tbody tr").length < ready.rows)
    return false;
  return performance.now() as number;
}

async function waitReady(page: Page, ready: Ready): Promise<number> {
  const handle = await page.waitForFunction(readyAt, ready, { polling: "raf", timeout: 30_000 });
  return Number(await handle.jsonValue());
}

/** Navigates and returns the page's clock when `ready` first holds. */
async function timeUntil(page: Page, url: string, ready: Ready): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  return waitReady(page, ready);
}

const GALLERIES_USABLE: Ready = { focusLink: true };

async function firstLoadBytes(): Promise<{ files: number; bytes: number }> {
  const html = await readFile(join(WEB, "index.html"), "utf8");
  const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? "");
  let bytes = 0;
  for (const asset of assets) bytes += gzipSync(await readFile(join(WEB, asset)), { level: 9 }).length;
  return { files: assets.length, bytes };
}

async function main(): Promise<void> {
  buildConsoleIfStale();
  const load = await firstLoadBytes();
  console.log(`# content: a definition of ${BIG_VERSIONS} versions, an audit log of ${BIG_ENTRIES} entries`);
  const server = await startBigServer();
  const browser = await launchChromium();
  try {
    const cold: number[] = [];
    const coldScript: number[] = [];
    const warm: number[] = [];
    const definition: number[] = [];
    const next: number[] = [];
    const audit: number[] = [];
    const filtered: number[] = [];
    const api: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await signedInContext(browser, server.url, "dave");
      const page = await context.newPage();
      cold.push(await timeUntil(page, `${server.url}/`, GALLERIES_USABLE));
      coldScript.push(
        Number(
          await page.evaluate(
            () => performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd as number,
          ),
        ),
      );
      warm.push(await timeUntil(page, `${server.url}/`, GALLERIES_USABLE));
      definition.push(
        await timeUntil(page, `${server.url}/galleries/big/images/many`, {
          text: `Page 1 of 40 · ${BIG_VERSIONS} versions`,
          rows: 50,
        }),
      );
      const clicked = Number(
        await page.evaluate(() => {
          const started = performance.now();
          const button = [...document.querySelectorAll("button")].find(
            (b: { textContent: string }) => b.textContent === "Next",
          );
          button.click();
          return started;
        }),
      );
      next.push((await waitReady(page, { text: `Page 2 of 40 · ${BIG_VERSIONS} versions` })) - clicked);
      audit.push(await timeUntil(page, `${server.url}/audit?gallery=big`, { rows: 50 }));
      filtered.push(
        await timeUntil(page, `${server.url}/audit?gallery=big&actor=user-07&action=request.`, {
          text: "user-07",
          rows: 50,
        }),
      );
      const started = performance.now();
      const res = await fetch(
        `${server.url}/api/v1/galleries/big/audit?actor=user-07&action=request.&limit=51`,
        { headers: { authorization: basic("dave") } },
      );
      await res.arrayBuffer();
      api.push(performance.now() - started);
      await context.close();
    }
    const rows: [string, string, string][] = [
      [
        "first page usable, cold",
        ms(median(cold)),
        `≤ ${FIRST_PAGE_TARGET_MS} ms ${verdict(median(cold) <= FIRST_PAGE_TARGET_MS)}`,
      ],
      [
        "  of which: the console's script loaded and run (DOMContentLoaded), cold",
        ms(median(coldScript)),
        "",
      ],
      [
        "first page usable, warm",
        ms(median(warm)),
        `≤ ${FIRST_PAGE_TARGET_MS} ms ${verdict(median(warm) <= FIRST_PAGE_TARGET_MS)}`,
      ],
      [`definition of ${BIG_VERSIONS} versions, first 50 rows`, ms(median(definition)), ""],
      ["definition, Next to page 2", ms(median(next)), ""],
      [`audit log of ${BIG_ENTRIES} entries, first 50 rows`, ms(median(audit)), ""],
      ["audit log filtered (actor, action prefix)", ms(median(filtered)), ""],
      ["filtered audit query alone (API)", ms(median(api)), ""],
      [
        `first load (${load.files} files, gzip -9)`,
        `${(load.bytes / 1024).toFixed(1)} KB`,
        `≤ 250 KB ${verdict(load.bytes <= FIRST_LOAD_TARGET)}`,
      ],
    ];
    console.log(`# median of ${RUNS} runs each, Chromium on loopback, signed in as a reader`);
    console.log(
      `# machine: ${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} at the end`,
    );
    console.log("| measure | value | target |");
    console.log("| --- | ---: | --- |");
    for (const [name, value, target] of rows) console.log(`| ${name} | ${value} | ${target} |`);
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}

await main();
