import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGalleryError } from "./errors.ts";
import type { RetentionRules } from "./model.ts";
import {
  planRetention,
  type RetentionFacts,
  type RetentionPlan,
  type RetentionVersionFacts,
} from "./retention.ts";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const DAY = 86_400_000;

function v(version: string, fields: Partial<RetentionVersionFacts> = {}): RetentionVersionFacts {
  return {
    version,
    digest: `sha256:${version.replace(/\./g, "").padStart(64, "0")}`,
    storedState: "published",
    eol: null,
    revokeAt: null,
    excludeFromLatest: false,
    createdAt: NOW - DAY,
    lastPullAt: null,
    restoredAt: null,
    ...fields,
  };
}

function facts(
  rules: RetentionRules,
  versions: RetentionVersionFacts[],
  extra: Partial<RetentionFacts> = {},
): RetentionFacts {
  return {
    name: "prod/web",
    rules,
    now: NOW,
    versions,
    channels: [],
    dependents: new Map(),
    pullsSince: 0,
    ...extra,
  };
}

const planned = (plan: RetentionPlan) => plan.actions.map((a) => `${a.version} ${a.action} ${a.rule}`);
const kept = (plan: RetentionPlan) => plan.held.map((h) => `${h.version} ${h.rule}: ${h.reason}`);

/** The facts after the plan's actions were applied. */
function applied(before: RetentionFacts, plan: RetentionPlan): RetentionFacts {
  return {
    ...before,
    versions: before.versions.map((x) => {
      const action = plan.actions.find((a) => a.version === x.version);
      if (action === undefined) return x;
      return { ...x, storedState: action.action === "deprecate" ? "deprecated" : "deleted" };
    }),
  };
}

describe("retention plan", () => {
  it("keepLast deprecates published versions beyond the newest N by number, highest first", () => {
    const plan = planRetention(
      facts({ keepLast: 3 }, [
        v("1.0.0"),
        v("1.10.0"),
        v("1.2.0"),
        v("2.0.0"),
        v("1.9.0"),
        // Versions that are not published neither count nor change.
        v("3.0.0", { storedState: "deprecated" }),
        v("0.1.0", { storedState: "revoked" }),
        v("0.2.0", { eol: NOW - DAY }),
      ]),
    );
    assert.deepEqual(planned(plan), ["1.2.0 deprecate keepLast", "1.0.0 deprecate keepLast"]);
    assert.equal(plan.actions[0]?.ruleText, "keepLast 3");
    assert.match(plan.actions[0]?.reason ?? "", /4th newest published version; the newest 3 are kept/);
    assert.match(plan.actions[1]?.reason ?? "", /5th newest/);
  });

  it("deprecateAfterDays deprecates published versions published N days ago or more", () => {
    const plan = planRetention(
      facts({ deprecateAfterDays: 90 }, [
        v("1.0.0", { createdAt: NOW - 100 * DAY }),
        v("1.1.0", { createdAt: NOW - 90 * DAY }),
        v("1.2.0", { createdAt: NOW - 89 * DAY }),
        v("0.9.0", { createdAt: NOW - 200 * DAY, storedState: "deprecated" }),
      ]),
    );
    assert.deepEqual(planned(plan), [
      "1.1.0 deprecate deprecateAfterDays",
      "1.0.0 deprecate deprecateAfterDays",
    ]);
    assert.match(plan.actions[1]?.reason ?? "", /published 2026-02-21, 100 days ago; limit 90 days/);
  });

  it("deleteAfterEolDays deletes versions of any state past their end of life plus the grace", () => {
    const plan = planRetention(
      facts({ deleteAfterEolDays: 30 }, [
        v("1.0.0", { eol: NOW - 31 * DAY }),
        v("1.1.0", { eol: NOW - 40 * DAY, storedState: "revoked" }),
        v("1.2.0", { eol: NOW - 30 * DAY, storedState: "deprecated" }),
        v("1.3.0", { eol: NOW - 29 * DAY }),
        v("1.4.0", { eol: NOW + DAY }),
        v("0.9.0", { eol: NOW - 300 * DAY, storedState: "deleted" }),
      ]),
    );
    assert.deepEqual(planned(plan), [
      "1.2.0 delete deleteAfterEolDays",
      "1.1.0 delete deleteAfterEolDays",
      "1.0.0 delete deleteAfterEolDays",
    ]);
    assert.match(plan.actions[2]?.reason ?? "", /end of life 2026-05-01, 31 days ago; grace 30 days/);
    // A grace of 0 deletes at the end of life.
    assert.deepEqual(planned(planRetention(facts({ deleteAfterEolDays: 0 }, [v("1.0.0", { eol: NOW })]))), [
      "1.0.0 delete deleteAfterEolDays",
    ]);
  });

  it("deleteUnusedDays deletes versions not pulled for N days, never pulled counting from publication", () => {
    const plan = planRetention(
      facts({ deleteUnusedDays: 60 }, [
        v("2.0.0", { createdAt: NOW - 300 * DAY, lastPullAt: NOW - DAY }),
        v("1.3.0", { createdAt: NOW - 300 * DAY, lastPullAt: NOW - 61 * DAY }),
        v("1.2.0", { createdAt: NOW - 61 * DAY, storedState: "deprecated" }),
        v("1.1.0", { createdAt: NOW - 59 * DAY }),
        v("1.0.0", { createdAt: NOW - 300 * DAY, lastPullAt: NOW - 10 * DAY }),
        v("0.9.0", { createdAt: NOW - 300 * DAY, eol: NOW - 100 * DAY }),
        // Revoked versions are left to the EOL rule: their pulls are refused, so none counts.
        v("0.8.0", { createdAt: NOW - 300 * DAY, storedState: "revoked" }),
      ]),
    );
    assert.deepEqual(planned(plan), [
      "1.3.0 delete deleteUnusedDays",
      "1.2.0 delete deleteUnusedDays",
      "0.9.0 delete deleteUnusedDays",
    ]);
    assert.match(plan.actions[0]?.reason ?? "", /last pulled 2026-04-01, 61 days ago; limit 60 days/);
    assert.match(plan.actions[1]?.reason ?? "", /never pulled; published 2026-04-01, 61 days ago/);
  });

  it("counts the unused time from the start of pull counting and from a restore", () => {
    const versions = [
      v("2.0.0", { lastPullAt: NOW }),
      v("1.1.0", { createdAt: NOW - 300 * DAY }),
      v("1.0.0", { createdAt: NOW - 300 * DAY, restoredAt: NOW - 5 * DAY }),
    ];
    const recent = planRetention(facts({ deleteUnusedDays: 60 }, versions, { pullsSince: NOW - 30 * DAY }));
    assert.deepEqual(planned(recent), []);
    const counted = planRetention(facts({ deleteUnusedDays: 60 }, versions, { pullsSince: NOW - 70 * DAY }));
    assert.deepEqual(planned(counted), ["1.1.0 delete deleteUnusedDays"]);
    assert.match(counted.actions[0]?.reason ?? "", /never pulled since pulls are counted \(2026-03-23\)/);
    // Without pull counts the rule is off, and the plan says so.
    const uncounted = planRetention(facts({ deleteUnusedDays: 60 }, versions, { pullsSince: null }));
    assert.deepEqual(planned(uncounted), []);
    assert.match(uncounted.notes[0] ?? "", /not applied: this server does not count pulls/);
  });

  it("a restore starts the EOL grace afresh", () => {
    const plan = planRetention(
      facts({ deleteAfterEolDays: 30 }, [
        v("1.0.0", { eol: NOW - 100 * DAY, restoredAt: NOW - 2 * DAY }),
        v("1.1.0", { eol: NOW - 100 * DAY, restoredAt: NOW - 31 * DAY }),
      ]),
    );
    assert.deepEqual(planned(plan), ["1.1.0 delete deleteAfterEolDays"]);
    assert.match(plan.actions[0]?.reason ?? "", /restored 2026-05-01 after its end of life 2026-02-21/);
  });

  it("the unused rule keeps the newest published version and latest; with none published the newest deprecated", () => {
    const old = { createdAt: NOW - 300 * DAY };
    const plan = planRetention(
      facts({ deleteUnusedDays: 60 }, [
        v("3.0.0", { ...old, excludeFromLatest: true }),
        v("2.0.0", old),
        v("1.0.0", old),
      ]),
    );
    assert.deepEqual(planned(plan), ["1.0.0 delete deleteUnusedDays"]);
    assert.deepEqual(kept(plan), [
      "3.0.0 deleteUnusedDays: it is the newest published version",
      "2.0.0 deleteUnusedDays: it is the latest version",
    ]);
    const none = planRetention(
      facts({ deleteUnusedDays: 60 }, [
        v("2.0.0", { ...old, storedState: "deprecated" }),
        v("1.0.0", { ...old, storedState: "deprecated" }),
      ]),
    );
    assert.deepEqual(planned(none), ["1.0.0 delete deleteUnusedDays"]);
    assert.deepEqual(kept(none), [
      "2.0.0 deleteUnusedDays: it is the newest version still served (none is published)",
    ]);
  });

  it("never touches a version a channel points at or another version is built on", () => {
    const base = v("1.0.0", { eol: NOW - 100 * DAY });
    const plan = planRetention(
      facts(
        { keepLast: 1, deleteAfterEolDays: 30 },
        [v("2.0.0"), v("1.5.0"), v("1.2.0"), base, v("0.9.0", { eol: NOW - 100 * DAY })],
        {
          channels: [
            { name: "production", version: "1.5.0" },
            { name: "empty", version: null },
          ],
          dependents: new Map([
            [base.digest, ["prod/app:4.0.0", "prod/web:1.0.0"]],
            // A version listed as built on its own digest protects nothing.
            [v("0.9.0").digest, ["prod/web:0.9.0"]],
          ]),
        },
      ),
    );
    assert.deepEqual(planned(plan), ["1.2.0 deprecate keepLast", "0.9.0 delete deleteAfterEolDays"]);
    assert.deepEqual(kept(plan), [
      '1.5.0 keepLast: channel "production" points at it',
      "1.0.0 deleteAfterEolDays: prod/app:4.0.0 is built on it",
    ]);
  });

  it("a deletion wins over a deprecation of the same version", () => {
    const plan = planRetention(
      facts({ keepLast: 1, deleteUnusedDays: 30 }, [
        v("2.0.0", { lastPullAt: NOW }),
        v("1.1.0", { lastPullAt: NOW }),
        v("1.0.0", { createdAt: NOW - 40 * DAY }),
      ]),
    );
    assert.deepEqual(planned(plan), ["1.1.0 deprecate keepLast", "1.0.0 delete deleteUnusedDays"]);
  });

  it("is idempotent: once its actions are applied, the plan is empty", () => {
    const first = facts(
      { keepLast: 2, deprecateAfterDays: 50, deleteAfterEolDays: 10, deleteUnusedDays: 100 },
      [
        v("5.0.0", { createdAt: NOW - 10 * DAY }),
        v("4.0.0", { createdAt: NOW - 60 * DAY, lastPullAt: NOW - DAY }),
        v("3.0.0", { createdAt: NOW - 70 * DAY, lastPullAt: NOW - DAY }),
        v("2.0.0", { createdAt: NOW - 200 * DAY }),
        v("1.0.0", { createdAt: NOW - 300 * DAY, eol: NOW - 20 * DAY }),
      ],
      { channels: [{ name: "stable", version: "3.0.0" }] },
    );
    const plan = planRetention(first);
    assert.deepEqual(planned(plan), [
      "4.0.0 deprecate deprecateAfterDays",
      "2.0.0 delete deleteUnusedDays",
      "1.0.0 delete deleteAfterEolDays",
    ]);
    assert.deepEqual(kept(plan), ['3.0.0 deprecateAfterDays: channel "stable" points at it']);
    const again = planRetention(applied(first, plan));
    assert.deepEqual(planned(again), []);
    assert.deepEqual(kept(again), kept(plan));
  });

  it("plans what its own deprecations lead to: a deprecated newest version is no longer kept as unused", () => {
    const old = { createdAt: NOW - 200 * DAY };
    const first = facts(
      { deprecateAfterDays: 90, deleteUnusedDays: 90 },
      [v("5.0.0", old), v("3.0.0", old)],
      {
        channels: [{ name: "production", version: "3.0.0" }],
      },
    );
    const plan = planRetention(first);
    assert.deepEqual(planned(plan), ["5.0.0 delete deleteUnusedDays"]);
    assert.deepEqual(planned(planRetention(applied(first, plan))), []);
  });

  it("is idempotent on random definitions", () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const states = ["published", "published", "published", "deprecated", "revoked", "deleted"] as const;
    for (let round = 0; round < 300; round++) {
      const versions = Array.from({ length: 1 + next(8) }, (_, i) =>
        v(`${i}.${next(3)}.0`, {
          storedState: states[next(states.length)] ?? "published",
          createdAt: NOW - next(200) * DAY,
          eol: next(3) === 0 ? NOW - next(100) * DAY : null,
          lastPullAt: next(2) === 0 ? NOW - next(150) * DAY : null,
          excludeFromLatest: next(5) === 0,
        }),
      );
      const rules: RetentionRules = {
        ...(next(2) === 0 ? { keepLast: 1 + next(3) } : {}),
        ...(next(2) === 0 ? { deprecateAfterDays: 1 + next(100) } : {}),
        ...(next(2) === 0 ? { deleteAfterEolDays: next(50) } : {}),
        ...(next(2) === 0 ? { deleteUnusedDays: 1 + next(100) } : {}),
      };
      const channels = next(2) === 0 ? [{ name: "prod", version: versions[0]?.version ?? null }] : [];
      const first = facts(rules, versions, { channels });
      const plan = planRetention(first);
      assert.deepEqual(planned(planRetention(applied(first, plan))), [], JSON.stringify(first));
      // Never a version a channel points at.
      assert.ok(!plan.actions.some((a) => channels.some((c) => c.version === a.version)));
    }
  });

  it("refuses rules out of range with a clear error", () => {
    for (const rules of [
      { keepLast: 0 },
      { deprecateAfterDays: 0 },
      { deleteUnusedDays: -1 },
      { deleteAfterEolDays: -5 },
      { keepLast: 1.5 },
      { deleteUnusedDays: "30" as unknown as number },
    ]) {
      assert.throws(
        () => planRetention(facts(rules, [v("1.0.0")])),
        (error: unknown) =>
          isGalleryError(error) &&
          error.code === "INVALID" &&
          /^Invalid retention rule \w+ /.test(error.message),
        JSON.stringify(rules),
      );
    }
  });
});
