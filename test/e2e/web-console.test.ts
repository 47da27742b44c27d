// The web console in Debian's Chromium (driven by playwright-core) against a real `strata serve`
// with content published through the registry and the API: a publisher signs in, walks galleries
// → definition → version, deprecates behind the confirmation and requests a promotion to a
// restricted channel; an approver in a second browser context approves it; the publisher cannot
// approve their own request. Hostile markup in a changelog, labels and a description shows as
// text and runs nothing; the CSP refuses inline script; the session cookie is HttpOnly and
// SameSite=Strict; a cookie-authenticated change without the CSRF token is refused and changes
// nothing; axe-core finds no serious or critical violation on any page; nothing overflows a
// 390-px viewport; the first load stays within its compressed-size budget and carries no uPlot.
// The gallery signs with a key made here; a version carries an SBOM (one package named with
// markup) and provenance, replicates to a second `strata serve` (and fails to a site nothing
// listens at), and is pulled: the version page shows its copies, pulls, provenance, packages and
// signature; the usage page draws its charts; the replication page filters by state and plans a
// copy; the policy page lists a recorded warning; the registry page lists repositories and tags;
// search finds definitions by label and versions by number. Screenshots of each
// page go to a folder under the OS temp dir (and to $STRATA_WEB_SCREENSHOTS when set). The console
// is built first when dist/web is missing or older than its sources.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { provenanceReferrer } from "../../src/builder/index.ts";
import { MediaType } from "../../src/oci/index.ts";
import { sbomReferrers, type Package } from "../../src/sbom/index.ts";
import { authYaml } from "../helpers/gallery.ts";
import { buildImage, buildLayer, type TestImage } from "../helpers/images.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";
import {
  apiCall,
  apiOk as apiOkAt,
  basic,
  buildConsoleIfStale,
  checkAccessible,
  CHROMIUM,
  launchChromium,
  pushImage,
  ROOT,
  signIn as signInAt,
  WAIT_MS,
  WEB,
} from "./web-support.ts";

const BUDGET = 250 * 1024;
const HOSTILE_SCRIPT = "<script>window.__pwned = 'script'</script>";
const HOSTILE_IMG = `<img src=x onerror="window.__pwned = 'img'">`;

// The page's globals, for the functions evaluated in Chromium (the tests compile without DOM types).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const getComputedStyle: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

describe(
  "web console in Chromium",
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` },
  () => {
    let server: RunningStrata;
    let site: RunningStrata;
    let keys = "";
    let browser: Browser;
    let shots: string;
    const extraShots = process.env.STRATA_WEB_SCREENSHOTS;
    const contexts: BrowserContext[] = [];
    let carol: Page;
    let bob: Page;
    const dialogs: string[] = [];
    const consoleErrors: string[] = [];

    const api = (user: string, method: string, path: string, body?: unknown) =>
      apiCall(server.url, user, method, path, body);

    const apiOk = (user: string, method: string, path: string, body?: unknown) =>
      apiOkAt(server.url, user, method, path, body);

    const push = (repository: string, tag: string, image: TestImage) =>
      pushImage(server.url, repository, tag, image);

    /** Pushes a referrer (its blobs, then its manifest by digest). */
    async function pushReferrer(
      repository: string,
      referrer: { digest: string; manifest: Buffer; blobs: readonly { digest: string; bytes: Buffer }[] },
    ): Promise<void> {
      for (const blob of referrer.blobs) {
        const res = await fetch(`${server.url}/v2/${repository}/blobs/uploads/?digest=${blob.digest}`, {
          method: "POST",
          headers: { authorization: basic("alice"), "content-type": "application/octet-stream" },
          body: blob.bytes,
          signal: AbortSignal.timeout(WAIT_MS),
        });
        assert.equal(res.status, 201, `referrer blob push: ${await res.text()}`);
      }
      const res = await fetch(`${server.url}/v2/${repository}/manifests/${referrer.digest}`, {
        method: "PUT",
        headers: { authorization: basic("alice"), "content-type": MediaType.ImageManifest },
        body: referrer.manifest,
        signal: AbortSignal.timeout(WAIT_MS),
      });
      assert.equal(res.status, 201, `referrer manifest push: ${await res.text()}`);
    }

    /** An SBOM (SPDX and CycloneDX) with many packages, one named with markup, and provenance. */
    async function attachSupplyChain(repository: string, image: TestImage): Promise<void> {
      const subject = { digest: image.manifestDigest, size: image.manifest.length };
      const packages: Package[] = [
        {
          type: "deb",
          name: "openssl",
          version: "3.0.15-1",
          purl: "pkg:deb/debian/openssl@3.0.15-1",
          licenses: [],
        },
        { type: "deb", name: HOSTILE_IMG, version: "1.0", purl: "pkg:deb/debian/hostile@1.0", licenses: [] },
      ];
      for (let i = 0; i < 60; i++)
        packages.push({
          type: "deb",
          name: `lib${i}`,
          version: `1.${i}`,
          purl: `pkg:deb/debian/lib${i}@1.${i}`,
          licenses: [],
        });
      const name = `${repository}@${image.manifestDigest}`;
      for (const referrer of sbomReferrers({ packages }, { name, digest: image.manifestDigest }, subject))
        await pushReferrer(repository, referrer);
      await pushReferrer(
        repository,
        provenanceReferrer(subject, {
          _type: "https://in-toto.io/Statement/v1",
          subject: [{ name, digest: { sha256: image.manifestDigest.replace(/^sha256:/, "") } }],
          predicateType: "https://slsa.dev/provenance/v1",
          predicate: {
            buildDefinition: {
              buildType: "https://strata.dev/build/containerfile/v1",
              externalParameters: { source: "https://git.example.com/web.git", revision: "0123abcd" },
            },
            runDetails: {
              builder: { id: "https://ci.example.com/runners/7" },
              metadata: {
                invocationId: "build-4711",
                startedOn: "2026-01-02T03:04:05.000Z",
                finishedOn: "2026-01-02T03:09:05.000Z",
              },
            },
          },
        }),
      );
    }

    async function release(name: string): Promise<TestImage> {
      const layer = await buildLayer([
        { name: "etc/", type: "directory" },
        { name: "etc/release", type: "file", content: Buffer.from(`${name}\n`) },
        { name: `srv/${name.replace(/\W/g, "-")}.txt`, type: "file", content: Buffer.from(name) },
      ]);
      return buildImage({ layers: [layer], platform: { os: "linux", architecture: "amd64" } });
    }

    async function newPage(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.setDefaultNavigationTimeout(WAIT_MS);
      page.on("dialog", (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      return page;
    }

    const signIn = (page: Page, user: string) => signInAt(page, server.url, user);

    /** At 390 px wide the page scrolls only vertically. */
    async function checkNarrow(page: Page, what: string): Promise<void> {
      const size = page.viewportSize();
      await page.setViewportSize({ width: 390, height: 844 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.setViewportSize(size ?? { width: 1280, height: 860 });
      assert.ok(overflow <= 0, `${what} overflows a 390-px viewport by ${overflow} px`);
    }

    async function screenshot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: join(shots, `${name}.png`) });
      if (extraShots !== undefined && extraShots !== "") {
        await mkdir(resolve(ROOT, extraShots), { recursive: true });
        await page.screenshot({ path: resolve(ROOT, extraShots, `${name}.png`) });
      }
    }

    async function checkPage(page: Page, name: string): Promise<void> {
      await checkAccessible(page, name);
      await checkNarrow(page, name);
      await screenshot(page, name);
    }

    before(async () => {
      buildConsoleIfStale();
      shots = await mkdtemp(join(tmpdir(), "strata-web-screenshots-"));
      console.log(`# screenshots: ${shots}`);
      // The gallery signs what it receives with a key made here; versions replicate to a second
      // Strata (eu) and, for 1.0.0, to a site nothing listens at (moon), whose copy fails.
      keys = await mkdtemp(join(tmpdir(), "strata-web-keys-"));
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      await writeFile(join(keys, "demo.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
      site = await startStrata();
      server = await startStrata({
        config: await authYaml(
          ["alice", "bob", "carol", "dave"],
          [
            "gallery:",
            "  signing:",
            `    demo: { key: ${JSON.stringify(join(keys, "demo.key"))} }`,
            "sites:",
            `  eu: { url: "${site.url}", kind: strata, region: eu-west, cost: { storagePerGiBMonth: 0.023, egressPerGiB: 0.09 } }`,
            `  moon: { url: "http://127.0.0.1:9", kind: registry }`,
            "replication: { interval: 200ms, backoff: 1h, maxBackoff: 2h }",
            "usage: { flush: 100ms }",
            "policies:",
            "  - { name: sbom-required, mode: warn, scope: { galleries: [demo] }, points: [check], rules: { sbom: true } }",
            "",
          ].join("\n"),
        ),
      });
      browser = await launchChromium();

      // Content: a gallery with alice admin, bob approver, carol publisher; a definition whose
      // description and labels carry markup; three versions, the second with a hostile changelog;
      // a restricted production channel; a VM definition with its properties.
      await apiOk("alice", "POST", "/galleries", {
        name: "demo",
        description: "Images of the demo team",
        members: { bob: "approver", carol: "publisher", dave: "reader" },
      });
      await apiOk("alice", "POST", "/galleries/demo/images", {
        name: "web",
        kind: "container",
        os: "linux",
        arch: "amd64",
        description: `The web front end ${HOSTILE_SCRIPT}`,
        labels: { team: HOSTILE_IMG, tier: "frontend" },
        releaseNotesUrl: "https://example.com/notes",
        replicateTo: ["eu"],
      });
      await apiOk("alice", "POST", "/galleries/demo/images", {
        name: "web-vm",
        kind: "vm",
        os: "linux",
        arch: "amd64",
        description: "The web front end as a VM disk",
        vm: {
          generation: "v2",
          bootMode: "uefi",
          secureBoot: true,
          recommendedVcpus: 2,
          recommendedMemoryMiB: 2048,
        },
      });
      const changelogs: Record<string, string> = {
        "1.0.0": "# First release\n\nServes the *home page*.",
        "1.1.0": `## Fixes\n\n- escapes ${HOSTILE_SCRIPT}\n- and ${HOSTILE_IMG}\n- see [the notes](https://example.com/1.1) or [this](javascript:window.__pwned='link')\n\n\`\`\`\n${HOSTILE_SCRIPT}\n\`\`\``,
        "1.2.0": "Faster **start-up**.",
      };
      for (const [version, changelog] of Object.entries(changelogs)) {
        const image = await release(`web ${version}`);
        const digest = await push("builds/web", `v${version}`, image);
        if (version === "1.1.0") await attachSupplyChain("builds/web", image);
        await apiOk("carol", "POST", "/galleries/demo/images/web/versions", {
          version,
          from: `builds/web@${digest}`,
          changelog,
        });
      }
      await apiOk("carol", "PUT", "/galleries/demo/images/web/versions/1.0.0/replication", {
        sites: ["eu", "moon"],
      });
      // A recorded decision: 1.0.0 has no SBOM, which the check point warns about.
      await apiOk("alice", "POST", "/policy/check", {
        references: [`${new URL(server.url).host}/demo/web:1.0.0`],
        point: "check",
      });
      await apiOk("alice", "PUT", "/galleries/demo/images/web/channels/production", {
        version: "1.0.0",
        restricted: true,
        approvals: 1,
      });
      // Enough versions of another definition for the table to page.
      const many = await push("builds/many", "m", await release("many"));
      await apiOk("alice", "POST", "/galleries/demo/images", { name: "many", kind: "container" });
      for (let i = 0; i < 120; i++) {
        await apiOk("carol", "POST", "/galleries/demo/images/many/versions", {
          version: `1.0.${i}`,
          from: `builds/many@${many}`,
        });
      }
      carol = await newPage();
      bob = await newPage();
    });

    after(async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser?.close().catch(() => undefined);
      await server?.stop();
      await site?.stop();
      if (keys !== "") await rm(keys, { recursive: true, force: true });
    });

    it("answers the console with its security headers, and the CSP refuses inline script", async () => {
      const res = await fetch(`${server.url}/galleries/demo`, { signal: AbortSignal.timeout(WAIT_MS) });
      assert.equal(res.status, 200);
      assert.match(
        res.headers.get("content-security-policy") ?? "",
        /script-src 'self';.*frame-ancestors 'none'/,
      );
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      await carol.goto(`${server.url}/sign-in`);
      await carol.getByRole("heading", { name: "Sign in" }).waitFor();
      const outcome = await carol.evaluate(
        () =>
          new Promise<{ ran: boolean; violated: string }>((done) => {
            const w = window as unknown as { __inline?: number };
            document.addEventListener("securitypolicyviolation", (e: { violatedDirective: string }) =>
              done({ ran: w.__inline === 1, violated: e.violatedDirective }),
            );
            const script = document.createElement("script");
            script.textContent = "window.__inline = 1";
            document.body.append(script);
          }),
      );
      assert.deepEqual(outcome, { ran: false, violated: "script-src-elem" });
      // Chromium reports that refusal on the console; later checks look for other errors only.
      consoleErrors.length = 0;
      await checkPage(carol, "sign-in");
    });

    it("signs the publisher in with an HttpOnly, SameSite=Strict session cookie", async () => {
      await signIn(carol, "carol");
      const cookies = await carol.context().cookies();
      const session = cookies.find((c) => c.name === "strata_session");
      assert.ok(session !== undefined, "strata_session cookie set");
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, "Strict");
      assert.equal(session.path, "/");
      assert.ok(session.expires > Date.now() / 1000, "the cookie expires");
      assert.equal(await carol.evaluate(() => document.cookie.includes("strata_session")), false);
    });

    it("walks galleries → gallery → definition → version, with markup shown as text", async () => {
      await carol.goto(`${server.url}/`);
      await carol.getByRole("heading", { name: "Galleries" }).waitFor();
      await carol.getByRole("cell", { name: "publisher" }).waitFor();
      await checkPage(carol, "galleries");

      await carol.getByRole("link", { name: "demo" }).click();
      await carol.getByRole("heading", { name: "Image definitions" }).waitFor();
      await carol.getByRole("link", { name: "web-vm" }).waitFor();
      await checkPage(carol, "gallery");

      await carol.getByRole("link", { name: "web", exact: true }).click();
      await carol.getByRole("heading", { name: "Versions (3)" }).waitFor();
      // The description and the label are text, not elements.
      await carol.getByText(`The web front end ${HOSTILE_SCRIPT}`).waitFor();
      await carol.getByText(HOSTILE_IMG).waitFor();
      assert.equal(await carol.locator("main img, main script").count(), 0);
      await carol.getByRole("cell", { name: "restricted: 1 approval(s)" }).waitFor();
      await checkPage(carol, "definition");

      await carol.getByRole("link", { name: "1.1.0", exact: true }).first().click();
      await carol.getByRole("heading", { name: "Changelog" }).waitFor();
      await carol.getByText(`escapes ${HOSTILE_SCRIPT}`).waitFor();
      await carol.getByText(`and ${HOSTILE_IMG}`).waitFor();
      // An http(s) link is a link; a javascript: one is only its text.
      assert.equal(
        await carol.getByRole("link", { name: "the notes" }).getAttribute("href"),
        "https://example.com/1.1",
      );
      assert.equal(await carol.getByRole("link", { name: "this", exact: true }).count(), 0);
      assert.equal(await carol.locator("main img, main script, main [onerror]").count(), 0);
      await carol.getByRole("heading", { name: /Changes\s+since 1\.0\.0/ }).waitFor();
      await carol.getByText(/Files: \d+ added/).waitFor();
      await carol.getByText(`${new URL(server.url).host}/demo/web:1.1.0`, { exact: false }).waitFor();
      assert.equal(
        await carol.evaluate(() => (window as unknown as { __pwned?: string }).__pwned ?? null),
        null,
      );
      await checkPage(carol, "version");
      // The dark colours (the system setting) pass the same check.
      await carol.emulateMedia({ colorScheme: "dark" });
      assert.equal(
        await carol.evaluate(() => getComputedStyle(document.body).backgroundColor),
        "rgb(13, 17, 23)",
      );
      await checkAccessible(carol, "version (dark)");
      await carol.emulateMedia({ colorScheme: "light" });

      // The VM definition shows its properties.
      await carol.goto(`${server.url}/galleries/demo/images/web-vm`);
      await carol.getByText("uefi, Secure Boot").waitFor();
      await carol.getByText("2 vCPUs, 2048 MiB memory").waitFor();
    });

    it("shows a version's copies, pulls, provenance, SBOM packages and signatures", async () => {
      // Two pulls of 1.1.0 through the registry, counted at this site.
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${server.url}/v2/demo/web/manifests/1.1.0`, {
          headers: { authorization: basic("dave"), accept: MediaType.ImageManifest },
          signal: AbortSignal.timeout(WAIT_MS),
        });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      await carol.goto(`${server.url}/galleries/demo/images/web/versions/1.1.0`);
      const replication = carol.locator("section[aria-labelledby=replication-title]");
      await replication.getByRole("row", { name: /eu \(eu-west\)\s+completed/ }).waitFor();
      await carol
        .locator("section[aria-labelledby=pulls-title]")
        .getByText("2 in all, 2 in the last 30 days")
        .waitFor();
      const provenance = carol.locator("section[aria-labelledby=provenance-title]");
      await provenance.getByText("https://ci.example.com/runners/7").waitFor();
      await provenance.getByText("https://git.example.com/web.git").waitFor();
      await provenance.getByText("build-4711").waitFor();
      // The package named with markup is a text cell, and the list pages and searches.
      const sbom = carol.locator("section[aria-labelledby=sbom-title]");
      await sbom.getByText("62 packages in the SPDX 2.3 document").waitFor();
      await sbom.getByText("Page 1 of 2 · 62 packages").waitFor();
      await sbom.getByRole("cell", { name: HOSTILE_IMG, exact: true }).waitFor();
      assert.equal(await carol.locator("main img, main script, main [onerror]").count(), 0);
      await sbom.getByLabel("Package name contains").fill("openssl");
      await sbom.getByText("Page 1 of 1 · 1 packages").waitFor();
      await sbom.getByRole("cell", { name: "3.0.15-1", exact: true }).waitFor();
      // The gallery's signature, verified by the server with the key the keys API names.
      const signatures = carol.locator("section[aria-labelledby=signatures-title]");
      await signatures.getByRole("cell", { name: "verified with the gallery's signing key" }).waitFor();
      const keyId = (await signatures.locator("tbody tr td").nth(1).textContent()) ?? "";
      assert.ok(keyId !== "" && keyId !== "—", "the signature names its key");
      const galleryKeys = await apiOk("alice", "GET", "/galleries/demo/keys");
      assert.ok(JSON.stringify(galleryKeys).includes(keyId), `${keyId} in ${JSON.stringify(galleryKeys)}`);
      await checkPage(carol, "version-supply-chain");
      await carol.emulateMedia({ colorScheme: "dark" });
      await checkAccessible(carol, "version supply chain (dark)");
      await carol.emulateMedia({ colorScheme: "light" });
      // A copy to a site nothing listens at fails with its reason.
      await carol.goto(`${server.url}/galleries/demo/images/web/versions/1.0.0`);
      await replication.getByRole("row", { name: /moon\s+failed/ }).waitFor();
    });

    it("charts pulls and storage on the usage page, which alone loads uPlot", async () => {
      const before = await carol.evaluate(() =>
        [...document.querySelectorAll("link[rel=stylesheet], script[src]")].map(
          (e: { href?: string; src?: string }) => e.href ?? e.src ?? "",
        ),
      );
      await carol.getByRole("link", { name: "Usage" }).click();
      await carol.getByRole("heading", { name: "Usage and costs" }).waitFor();
      await carol.getByRole("heading", { name: "Pulls per day, last 30 days" }).waitFor();
      const pulls = carol.locator("section[aria-labelledby=pulls-title]");
      await pulls.locator("canvas").first().waitFor();
      await pulls.getByRole("row", { name: /^demo 2 \d+$/ }).waitFor();
      const storage = carol.locator("section[aria-labelledby=storage-title]");
      assert.equal(await storage.locator("canvas").count(), 2);
      await storage.getByRole("cell", { name: "eu (eu-west)" }).first().waitFor();
      await carol.getByRole("heading", { name: "Most pulled versions" }).waitFor();
      await carol.getByRole("link", { name: "demo/web:1.1.0" }).waitFor();
      await carol.getByRole("heading", { name: /^Sprawl$/ }).waitFor();
      // The chart's stylesheet came with the page, not with the first load.
      assert.ok(!before.some((href: string) => /usage|chart/.test(href)), before.join(", "));
      await checkPage(carol, "usage");
      await carol.emulateMedia({ colorScheme: "dark" });
      await checkAccessible(carol, "usage (dark)");
      await carol.emulateMedia({ colorScheme: "light" });
    });

    it("lists copies by state on the replication page and plans a copy's bytes and costs", async () => {
      await carol.getByRole("link", { name: "Replication" }).click();
      await carol.getByRole("heading", { name: "Replication", exact: true }).waitFor();
      await carol.getByRole("row", { name: /demo\/web:1\.0\.0 moon\s+failed/ }).waitFor();
      await carol.getByLabel("State").selectOption("failed");
      await carol.getByRole("button", { name: "Apply" }).click();
      await carol.waitForURL(/state=failed/);
      await carol.getByRole("row", { name: /moon\s+failed/ }).waitFor();
      assert.equal(await carol.getByRole("row", { name: /completed/ }).count(), 0);
      await checkPage(carol, "replication");
      await carol.getByRole("button", { name: "Plan demo/web:1.0.0" }).click();
      await carol.getByLabel("Sites (optional, comma-separated)").fill("eu");
      await carol.getByRole("button", { name: "Plan", exact: true }).click();
      const plan = carol.locator("section[aria-labelledby=plan-title]");
      await plan.getByText(/demo\/web:1\.0\.0 brings \d+ blobs/).waitFor();
      // eu holds the version already: nothing to send, and its storage has a monthly cost.
      await plan.getByRole("row", { name: /^eu \(eu-west\) demo\/web 0 B/ }).waitFor();
      await checkPage(carol, "replication-plan");
    });

    it("lists policy decisions with what was warned about, where and why, filtered on the server", async () => {
      await carol.getByRole("link", { name: "Policy" }).click();
      await carol.getByRole("heading", { name: "Policy decisions" }).waitFor();
      const row = carol.getByRole("row", { name: /warn\s+check\s+.*demo\/web:1\.0\.0/ });
      await row.waitFor();
      await row.getByText(/sbom-required \(warn\) sbom:/).waitFor();
      await checkPage(carol, "policy");
      await carol.getByLabel("Outcome").selectOption("deny");
      await carol.getByRole("button", { name: "Apply" }).click();
      await carol.waitForURL(/outcome=deny/);
      await carol.getByText("No decision is recorded that matches.").waitFor();
    });

    it("browses the registry's repositories and a repository's tags with their digests", async () => {
      await carol.getByRole("link", { name: "Registry" }).click();
      await carol.getByRole("heading", { name: "Registry" }).waitFor();
      await carol.getByRole("row", { name: "builds/web no" }).waitFor();
      await carol.getByRole("row", { name: "demo/web yes" }).waitFor();
      await checkPage(carol, "registry");
      await carol.getByRole("link", { name: "builds/web" }).click();
      await carol.getByRole("heading", { name: "builds/web" }).waitFor();
      await carol.getByRole("row", { name: /^v1\.1\.0 sha256:[0-9a-f]{12}… Delete tag v1\.1\.0$/ }).waitFor();
      // The access rules grant every user delete: a delete is offered per tag (the tag delete
      // itself is walked in web-console-access.test.ts).
      await carol.getByText("Your access here: pull, push, delete.").waitFor();
      await carol.getByRole("button", { name: "Delete tag v1.1.0" }).waitFor();
      await checkPage(carol, "registry-tags");
    });

    it("searches definitions by label and versions by number, labels shown as text", async () => {
      await carol.getByRole("link", { name: "Search" }).click();
      await carol.getByRole("heading", { name: "Search" }).waitFor();
      await carol.getByLabel("Search for").fill("frontend");
      await carol.getByRole("heading", { name: "Definitions (1)" }).waitFor();
      await carol.getByRole("link", { name: "demo/web", exact: true }).waitFor();
      await carol.getByText(`team=${HOSTILE_IMG}`).waitFor();
      assert.equal(await carol.locator("main img, main script, main [onerror]").count(), 0);
      await checkPage(carol, "search");
      await carol.getByLabel("Search for").fill("1.0.11");
      await carol.getByRole("link", { name: "demo/many:1.0.11", exact: true }).waitFor();
    });

    it("pages a definition with many versions 50 rows at a time", async () => {
      await carol.goto(`${server.url}/galleries/demo/images/many`);
      await carol.getByText("Page 1 of 3 · 120 versions").waitFor();
      assert.equal(await carol.locator("section[aria-labelledby=versions-title] tbody tr").count(), 50);
      await carol.getByRole("button", { name: "Next" }).click();
      await carol.getByText("Page 2 of 3 · 120 versions").waitFor();
      await carol.getByLabel("Version starts with").fill("1.0.11");
      await carol.getByText("Page 1 of 1 · 11 versions").waitFor();
    });

    it("deprecates a version after a confirmation that says what will happen", async () => {
      await carol.goto(`${server.url}/galleries/demo/images/web/versions/1.0.0`);
      await carol.getByRole("button", { name: "Deprecate…" }).click();
      const dialog = carol.getByRole("dialog");
      await dialog.getByText(/Pulls of demo\/web:1\.0\.0 keep working but carry a warning/).waitFor();
      await dialog.getByLabel("Reason (optional)").fill("Superseded by 1.2.0");
      await dialog.getByLabel("Replacement version (optional)").fill("1.2.0");
      await screenshot(carol, "confirm-deprecate");
      await dialog.getByRole("button", { name: "Deprecate" }).click();
      await carol.getByRole("status").getByText("demo/web:1.0.0 is deprecated.").waitFor();
      const v = await apiOk("alice", "GET", "/galleries/demo/images/web/versions/1.0.0");
      assert.equal(v?.state, "deprecated");
      assert.deepEqual((v?.deprecation as { replacement?: string }).replacement, "1.2.0");
      // Cancel leaves things as they were.
      await carol.goto(`${server.url}/galleries/demo/images/web/versions/1.2.0`);
      await carol.getByRole("button", { name: "Revoke…" }).click();
      await carol.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
      assert.equal(
        (await apiOk("alice", "GET", "/galleries/demo/images/web/versions/1.2.0"))?.state,
        "published",
      );
    });

    it("revokes a version with a required reason, cascading to what is built on it", async () => {
      await carol.goto(`${server.url}/galleries/demo/images/web/versions/1.2.0`);
      await carol.getByRole("button", { name: "Revoke…" }).click();
      const dialog = carol.getByRole("dialog");
      await dialog.getByText(/Pulls of demo\/web:1\.2\.0 are refused from now on/).waitFor();
      // Without a reason nothing is sent.
      await dialog.getByRole("button", { name: "Revoke" }).click();
      await dialog.getByText("A revocation needs a reason").waitFor();
      assert.equal(
        (await apiOk("alice", "GET", "/galleries/demo/images/web/versions/1.2.0"))?.state,
        "published",
      );
      await dialog.getByLabel("Reason (required)").fill("CVE-2026-0001 <b>critical</b>");
      await dialog.getByLabel("Also revoke the versions built on it").check();
      await dialog.getByRole("button", { name: "Revoke" }).click();
      await carol.getByRole("status").getByText("Revoked web:1.2.0").waitFor();
      await carol.getByText("CVE-2026-0001 <b>critical</b>", { exact: false }).waitFor();
      const v = await apiOk("alice", "GET", "/galleries/demo/images/web/versions/1.2.0");
      assert.equal(v?.state, "revoked");
      assert.equal((v?.revocation as { reason: string }).reason, "CVE-2026-0001 <b>critical</b>");
    });

    it("shows a reader no lifecycle or promotion action, and moves by keyboard", async () => {
      const dave = await newPage();
      await signIn(dave, "dave");
      await dave.goto(`${server.url}/galleries/demo/images/web/versions/1.1.0`);
      await dave.getByText("Your role in this gallery allows no lifecycle action on this version.").waitFor();
      assert.equal(await dave.getByRole("button", { name: /Deprecate|Revoke|Delete|Restore/ }).count(), 0);
      await dave.goto(`${server.url}/galleries/demo/images/web`);
      await dave.getByRole("heading", { name: "Channels" }).waitFor();
      assert.equal(await dave.getByRole("heading", { name: "Promote" }).count(), 0);
      assert.equal(await dave.getByRole("button", { name: "Roll back" }).count(), 0);
      // The first Tab reaches the skip link, which moves focus to the page's content.
      await dave.keyboard.press("Tab");
      assert.equal(await dave.evaluate(() => document.activeElement?.textContent), "Skip to content");
      await dave.keyboard.press("Enter");
      assert.equal(await dave.evaluate(() => document.activeElement?.id), "main");
      await dave.context().close();
    });

    it("refuses a cookie-authenticated change without the CSRF token and changes nothing", async () => {
      const status = await carol.evaluate(async () => {
        const res = await fetch("/api/v1/galleries/demo/images/web/versions/1.1.0/deprecate", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        return res.status;
      });
      assert.equal(status, 403);
      assert.equal(
        (await apiOk("alice", "GET", "/galleries/demo/images/web/versions/1.1.0"))?.state,
        "published",
      );
    });

    it("requests a promotion to the restricted channel, which the publisher cannot approve", async () => {
      await carol.goto(`${server.url}/galleries/demo/images/web`);
      await carol.getByRole("combobox", { name: /^Version/ }).selectOption("1.1.0");
      await carol.getByRole("combobox", { name: "Channel", exact: true }).fill("production");
      await carol.getByRole("button", { name: "Promote" }).click();
      await carol
        .getByRole("status")
        .getByText(/Approval requested/)
        .waitFor();
      await carol.goto(`${server.url}/approvals`);
      await carol
        .getByText("This is your request: another approver must approve it (two-person rule).")
        .waitFor();
      assert.equal(await carol.getByRole("button", { name: "Approve" }).count(), 0);
      await checkPage(carol, "approvals-requester");
      const pending = (await apiOk("carol", "GET", "/requests?state=pending")) as unknown as { id: string }[];
      assert.equal(pending.length, 1);
      const refused = await api("carol", "POST", `/requests/${pending[0]?.id ?? ""}/approve`, {});
      assert.equal(refused.status, 403);
    });

    it("lets the approver approve it in another browser context, which moves the channel", async () => {
      await signIn(bob, "bob");
      await bob.goto(`${server.url}/approvals`);
      await bob.getByText("Point demo/web channel production at 1.1.0").waitFor();
      await bob.getByLabel("Comment (optional)").fill("Looks good <b>to me</b>");
      await checkPage(bob, "approvals");
      await bob.getByRole("button", { name: "Approve" }).click();
      await bob.getByText("Nothing waits for approval.").waitFor();
      const channel = await apiOk("alice", "GET", "/galleries/demo/images/web/channels/production");
      assert.equal(channel?.version, "1.1.0");
      // The publisher's page follows without a reload.
      await carol.getByText("Nothing waits for approval.").waitFor();
    });

    it("filters the audit log on the server", async () => {
      await carol.goto(`${server.url}/audit?gallery=demo`);
      await carol.getByRole("heading", { name: "Entries of demo" }).waitFor();
      await carol.locator("tbody tr").first().waitFor();
      await checkPage(carol, "audit");
      await carol.getByLabel("Actor").fill("bob");
      await carol.getByRole("button", { name: "Apply" }).click();
      await carol.waitForURL(/actor=bob/);
      await carol.locator("tbody tr").first().waitFor();
      const actors = await carol.locator("tbody tr td:nth-child(2)").allTextContents();
      assert.ok(actors.length > 0 && actors.every((a) => a === "bob"), `actors: ${actors.join(", ")}`);
    });

    it("signs out", async () => {
      await carol.getByRole("button", { name: "Sign out" }).click();
      await carol.getByRole("heading", { name: "Sign in" }).waitFor();
      const res = await carol.evaluate(async () => (await fetch("/api/v1/session")).status);
      assert.equal(res, 401);
    });

    it("ran no script from content and opened no dialog", () => {
      assert.deepEqual(dialogs, []);
      assert.deepEqual(
        consoleErrors.filter((e) => !/status of 40[134]/.test(e)),
        [],
      );
    });

    it(`keeps the first load within ${BUDGET / 1024} KB of compressed JavaScript and CSS`, async () => {
      const html = await readFile(join(WEB, "index.html"), "utf8");
      const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map(
        (m) => m[1] ?? "",
      );
      assert.ok(assets.some((a) => a.endsWith(".js")) && assets.some((a) => a.endsWith(".css")), html);
      let total = 0;
      for (const asset of assets) {
        const bytes = await readFile(join(WEB, asset));
        total += gzipSync(bytes, { level: 9 }).length;
        // uPlot (its legend's class names) loads with the usage page only.
        assert.ok(!bytes.toString("utf8").includes("u-legend"), `${asset} carries uPlot`);
      }
      console.log(`# first load: ${assets.length} files, ${(total / 1024).toFixed(1)} KB gzipped`);
      assert.ok(total <= BUDGET, `first load is ${total} bytes gzipped, over ${BUDGET}`);
    });
  },
);
