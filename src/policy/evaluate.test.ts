// Scopes, points, modes and outcomes; CEL rules; missing facts; invalid policies.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compilePolicies,
  describeDecision,
  evaluate,
  parsePolicies,
  PolicyError,
  unavailableFacts,
  type ImageFacts,
} from "./index.ts";
import { facts, NOW } from "./test-support.ts";

const signed = { signedBy: ["release"] };
const unsigned = facts({ signatures: [] });

describe("mayApply", () => {
  const policies = compilePolicies([
    { name: "repos", scope: { repositories: ["prod/**"] }, points: ["pull"], rules: { sbom: true } },
    { name: "gallery", scope: { galleries: ["stage"] }, rules: { sbom: true } },
    { name: "ns", scope: { namespaces: ["prod-*"] }, points: ["admission"], rules: { sbom: true } },
    { name: "all", points: ["run"], rules: { sbom: true } },
  ]);
  const by = (name: string) => policies.find((p) => p.name === name)!;

  it("says before any fact is read which repositories a policy can never apply to", () => {
    assert.equal(by("repos").mayApply("prod/web", "pull"), true);
    assert.equal(by("repos").mayApply("prod/team/web", "pull"), true);
    assert.equal(by("repos").mayApply("dev/web", "pull"), false);
    assert.equal(by("repos").mayApply("prod/web", "run"), false);
    assert.equal(by("gallery").mayApply("stage/web", "pull"), true);
    assert.equal(by("gallery").mayApply("stage/team/web", "pull"), false);
    assert.equal(by("gallery").mayApply("builds/web", "pull"), false);
    assert.equal(by("ns").mayApply("any/web", "admission", "prod-eu"), true);
    assert.equal(by("ns").mayApply("any/web", "admission", "dev"), false);
    assert.equal(by("ns").mayApply("any/web", "admission"), false);
    assert.equal(by("all").mayApply("anything", "run"), true);
    assert.equal(by("all").mayApply("anything", "pull"), false);
  });

  it("never says no where appliesTo would say yes", () => {
    for (const policy of policies)
      for (const repository of ["prod/web", "stage/web", "dev/web", "builds/x/y"])
        for (const point of ["pull", "run", "admission", "check"] as const)
          for (const namespace of [undefined, "prod-eu", "dev"]) {
            const gallery = repository.split("/").length === 2 ? repository.split("/")[0]! : undefined;
            const base = facts({ repository });
            const { gallery: _none, ...withoutGallery } = base;
            const f: ImageFacts =
              gallery === undefined ? withoutGallery : { ...base, gallery: { ...base.gallery!, gallery } };
            if (policy.appliesTo(f, point, namespace))
              assert.equal(
                policy.mayApply(repository, point, namespace),
                true,
                `${policy.name} ${repository} ${point}`,
              );
          }
  });
});

describe("evaluate", () => {
  it("takes the strictest failed mode: enforce denies, warn warns, audit allows but records", () => {
    const policies = compilePolicies([
      { name: "a", mode: "audit", rules: signed },
      { name: "w", mode: "warn", rules: signed },
      { name: "e", mode: "enforce", rules: { sbom: true } },
    ]);
    const warn = evaluate(policies, unsigned, "pull", { now: NOW });
    assert.equal(warn.outcome, "warn");
    assert.deepEqual(
      warn.policies.map((p) => [p.policy, p.allowed]),
      [
        ["a", false],
        ["w", false],
        ["e", true],
      ],
    );
    assert.deepEqual(describeDecision(warn), [
      'policy "w" rule signedBy: not signed by any of release (no signatures)',
    ]);
    const audit = evaluate(policies.slice(0, 1), unsigned, "pull");
    assert.equal(audit.outcome, "allow");
    assert.equal(audit.failures.length, 1, "the audit failure is recorded");
    const deny = evaluate(
      policies,
      facts({ signatures: [], sbom: { present: false, formats: [], packageCount: 0, packages: [] } }),
      "run",
    );
    assert.equal(deny.outcome, "deny");
    assert.deepEqual(describeDecision(deny), ['policy "e" rule sbom: no SBOM attached']);
    assert.equal(evaluate(policies, facts(), "pull").outcome, "allow");
  });

  it("defaults the mode to audit", () => {
    const [policy] = compilePolicies([{ name: "p", rules: signed }]);
    assert.equal(policy?.mode, "audit");
  });

  it("applies a policy only in its scope and at its points", () => {
    const policies = compilePolicies([
      { name: "repos", mode: "enforce", scope: { repositories: ["builds/**"] }, rules: signed },
      {
        name: "gallery",
        mode: "enforce",
        scope: { galleries: ["pro*"] },
        points: ["admission"],
        rules: signed,
      },
      { name: "ns", mode: "enforce", scope: { namespaces: ["prod-*"] }, rules: signed },
    ]);
    const names = (image: ImageFacts, point: "pull" | "admission", namespace?: string): string[] =>
      evaluate(policies, image, point, namespace === undefined ? {} : { namespace }).policies.map(
        (p) => p.policy,
      );
    assert.deepEqual(names(unsigned, "pull"), []);
    assert.deepEqual(names(unsigned, "admission"), ["gallery"]);
    assert.deepEqual(names(unsigned, "admission", "prod-eu"), ["gallery", "ns"]);
    assert.deepEqual(names(unsigned, "admission", "dev"), ["gallery"]);
    const { gallery: _g, ...plain } = facts({ repository: "builds/team/web", signatures: [] });
    assert.deepEqual(names(plain, "pull"), ["repos"]);
  });

  it("fails every rule that needs facts that could not be read, naming why", () => {
    const policies = compilePolicies([
      {
        name: "all",
        mode: "enforce",
        scope: { galleries: ["prod"] },
        rules: {
          signedBy: ["release"],
          sbom: true,
          provenance: true,
          maxAge: "30d",
          lifecycle: true,
          galleryOnly: true,
          allowedBases: ["base/*"],
          deniedPackages: ["xz-utils"],
        },
      },
    ]);
    const image = unavailableFacts(
      {
        reference: "prod/web:1.4.2",
        registry: "",
        repository: "prod/web",
        tag: "1.4.2",
        digest: facts().digest,
      },
      "timed out after 5s",
    );
    const decision = evaluate(policies, image, "pull", { now: NOW });
    assert.equal(
      decision.outcome,
      "deny",
      "the gallery scope still applies by the repository's first component",
    );
    assert.deepEqual(
      decision.failures.map((f) => `${f.rule}: ${f.reason}`),
      [
        "signedBy: signatures unavailable: timed out after 5s",
        "sbom: SBOM unavailable: timed out after 5s",
        "provenance: provenance unavailable: timed out after 5s",
        "maxAge: image config unavailable: timed out after 5s",
        "lifecycle: gallery facts unavailable: timed out after 5s",
        "galleryOnly: gallery facts unavailable: timed out after 5s",
        "allowedBases: base image facts unavailable: timed out after 5s",
        "deniedPackages: SBOM unavailable: timed out after 5s",
      ],
    );
    const partial = facts({ unavailable: { signatures: "registry answered 503" } });
    const { signatures: _s, ...withoutSignatures } = partial;
    assert.deepEqual(
      evaluate(policies, withoutSignatures, "pull", { now: NOW }).failures.map((f) => f.reason),
      ["signatures unavailable: registry answered 503"],
    );
  });
});

describe("cel rules", () => {
  const policy = (expression: string, message?: string): unknown[] => [
    {
      name: "custom",
      mode: "enforce",
      rules: { cel: [{ name: "check", expression, ...(message === undefined ? {} : { message }) }] },
    },
  ];
  const run = (expression: string, image: ImageFacts = facts(), message?: string): string[] =>
    evaluate(compilePolicies(policy(expression, message)), image, "admission", {
      namespace: "prod",
    }).failures.map((f) => `${f.rule}: ${f.reason}`);

  it("passes when true, fails with the message or the expression when false", () => {
    assert.deepEqual(run('image.labels["org.opencontainers.image.source"].startsWith("https://")'), []);
    assert.deepEqual(
      run(
        "image.sbom.packages.exists(p, p.name == 'openssl') && request.point == 'admission' && request.namespace == 'prod'",
      ),
      [],
    );
    assert.deepEqual(run("image.ageDays < 7.0"), ["cel/check: image.ageDays < 7.0 is false"]);
    assert.deepEqual(run("image.ageDays < 7.0", facts(), "rebuild weekly"), ["cel/check: rebuild weekly"]);
    assert.deepEqual(run("image.signatures.exists(s, s.keyName == 'release' && s.valid)"), []);
  });

  it("fails closed on an evaluation error, naming unavailable facts", () => {
    const { gallery: _g, ...plain } = facts();
    assert.deepEqual(run('image.gallery.state == "published"', plain), [
      'cel/check: image.gallery.state == "published" could not be evaluated: No such key: gallery',
    ]);
    const { sbom: _s, ...noSbom } = facts({ unavailable: { sbom: "timed out" } });
    assert.deepEqual(run("image.sbom.present", noSbom), [
      "cel/check: image.sbom.present could not be evaluated: No such key: sbom; facts unavailable: sbom (timed out)",
    ]);
    assert.match(run("dyn(image.repository) == 1 / 0")[0] ?? "", /could not be evaluated: division by zero/);
  });

  it("refuses expressions that do not parse, do not type-check or are not bools, at load", () => {
    const problem = (expression: string): string => {
      const { problems } = parsePolicies(policy(expression));
      assert.equal(problems.length, 1, expression);
      return `${problems[0]?.path.join(".") ?? ""}: ${problems[0]?.message ?? ""}`;
    };
    assert.match(
      problem("image.repository =="),
      /^0\.rules\.cel\.0\.expression: policy "custom" rule "check": expression "image\.repository ==" does not parse: /,
    );
    assert.match(problem("image.repositry == 'x'"), /does not type-check: No such key: repositry/);
    assert.match(problem("image.ageDays + 'x'"), /does not type-check: /);
    assert.match(problem("image.repository"), /gives string, not a bool$/);
  });
});

describe("invalid policies", () => {
  const cases: [string, unknown, RegExp][] = [
    ["not a list", { name: "p" }, /^: expected a list of policies, got a mapping$/],
    [
      "an unknown rule",
      [{ name: "p", rules: { signed: true } }],
      /^0\.rules\.signed: unknown rule; expected one of "signedBy"/,
    ],
    [
      "a bad mode",
      [{ name: "p", mode: "deny", rules: { sbom: true } }],
      /^0\.mode: expected one of "audit", "warn", "enforce", got "deny"$/,
    ],
    [
      "a bad glob",
      [{ name: "p", scope: { repositories: ["Prod/*"] }, rules: { sbom: true } }],
      /^0\.scope\.repositories\.0: use lowercase letters/,
    ],
    [
      "a bad duration",
      [{ name: "p", rules: { maxAge: "30 days" } }],
      /^0\.rules\.maxAge: expected a duration such as "30d"/,
    ],
    [
      "a bad point",
      [{ name: "p", points: ["push"], rules: { sbom: true } }],
      /^0\.points\.0: expected one of "pull", "run", "admission", "check", got "push"$/,
    ],
    ["no rules", [{ name: "p", rules: {} }], /^0\.rules: expected a mapping of rules/],
    [
      "a bad constraint",
      [{ name: "p", rules: { deniedPackages: [{ name: "openssl", version: "~3.0" }] } }],
      /^0\.rules\.deniedPackages\.0\.version: expected comparisons/,
    ],
    [
      "an unknown key",
      [{ name: "p", rules: { signedBy: ["nobody"] } }],
      /^0\.rules\.signedBy\.0: unknown key "nobody"/,
    ],
    [
      "a threshold above the keys",
      [{ name: "p", rules: { signedBy: { keys: ["release"], threshold: 2 } } }],
      /^0\.rules\.signedBy\.threshold: 2 signatures needed but only 1 keys named$/,
    ],
    [
      "a bad lifecycle state",
      [{ name: "p", rules: { lifecycle: { deny: ["retired"] } } }],
      /^0\.rules\.lifecycle\.deny\.0: expected one of "deprecated"/,
    ],
    [
      "a bad base",
      [{ name: "p", rules: { allowedBases: ["debian"] } }],
      /^0\.rules\.allowedBases\.0: expected a gallery definition GALLERY\/NAME/,
    ],
    [
      "a duplicate name",
      [
        { name: "p", rules: { sbom: true } },
        { name: "p", rules: { sbom: true } },
      ],
      /^1\.name: duplicate policy name "p" \(also policy \[0\]\)$/,
    ],
    [
      "a bad name",
      [{ name: "Prod Policy", rules: { sbom: true } }],
      /^0\.name: expected a name of lowercase letters/,
    ],
  ];
  for (const [name, value, want] of cases)
    it(name, () => {
      const { problems } = parsePolicies(value, { keys: new Map([["release", "0".repeat(64)]]) });
      assert.ok(problems.length >= 1, name);
      assert.match(`${problems[0]?.path.join(".") ?? ""}: ${problems[0]?.message ?? ""}`, want);
    });

  it("compilePolicies throws a PolicyError listing every problem", () => {
    assert.throws(
      () => compilePolicies([{ name: "p", mode: "strict", rules: { maxAge: "forever" } }]),
      (error: unknown) =>
        error instanceof PolicyError &&
        error.problems.length === 2 &&
        /^Invalid policies: \[0\]\.mode: expected one of .*; \[0\]\.rules\.maxAge: expected a duration/.test(
          error.message,
        ),
    );
  });
});
