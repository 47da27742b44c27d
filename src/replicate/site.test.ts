import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openSite, siteRepository } from "./site.ts";

describe("siteRepository", () => {
  it("keeps the repository at a Strata site and prefixes it at a registry site", () => {
    assert.equal(
      siteRepository({ name: "eu", url: "https://eu", kind: "strata" }, "apps", "web"),
      "apps/web",
    );
    assert.equal(
      siteRepository({ name: "eu", url: "https://eu", kind: "strata", repositoryPrefix: "x" }, "apps", "web"),
      "apps/web",
    );
    assert.equal(
      siteRepository({ name: "dr", url: "https://dr", kind: "registry" }, "apps", "web"),
      "apps/web",
    );
    assert.equal(
      siteRepository(
        { name: "dr", url: "https://dr", kind: "registry", repositoryPrefix: "/mirror/" },
        "apps",
        "web",
      ),
      "mirror/apps/web",
    );
  });
});

describe("openSite", () => {
  it("speaks plain HTTP to an http:// site and HTTPS otherwise", () => {
    assert.equal(
      openSite({ name: "dr", url: "http://10.0.0.9:5000", kind: "registry" }).client.base,
      "http://10.0.0.9:5000",
    );
    assert.equal(
      openSite({ name: "eu", url: "https://eu.example/", kind: "strata" }).base,
      "https://eu.example",
    );
    assert.equal(
      openSite({ name: "eu", url: "https://eu.example/", kind: "strata" }).client.base,
      "https://eu.example",
    );
  });

  it("refuses a URL it cannot read, naming the site", () => {
    assert.throws(
      () => openSite({ name: "eu", url: "not a url", kind: "strata" }),
      /Site "eu" has an invalid url/,
    );
  });
});
