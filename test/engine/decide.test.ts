import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, dependencyState, type DecideInput, type Decision } from "../../src/engine/decide.ts";

const rev = "b".repeat(40);
const old = "a".repeat(40);

function input(over: Partial<DecideInput>): DecideInput {
  return {
    job: "sync", explicit: false, revision: rev, rendered: true, gateAllowed: true, auto: true, selfHeal: false,
    last: undefined, good: undefined, dependencies: [], drifted: undefined, stopping: false,
    ...over,
  };
}

const synced = { revision: rev, outcome: "succeeded" };
const syncedOld = { revision: old, outcome: "succeeded" };

/**
 * Characterization: each row is what the agent (src/agent/agent.ts #work, #checkDrift,
 * #dependencies at 2f2afed) and `gitward apply` did before the lifecycle moved into the engine.
 * Rows marked `changed` are where that behaviour was wrong and the engine now differs; the
 * `before` column says what happened then.
 */
const cases: { name: string; in: Partial<DecideInput>; out: Decision; changed?: string }[] = [
  // Gate and render
  { name: "render failed: refused and recorded", in: { rendered: false }, out: { kind: "refuse", reason: "render", record: true } },
  { name: "gate refused: recorded", in: { gateAllowed: false }, out: { kind: "refuse", reason: "gate", record: true } },
  { name: "gate refused again at the same revision: not recorded twice", in: { gateAllowed: false, last: { revision: rev, outcome: "failed" } }, out: { kind: "refuse", reason: "gate", record: false } },
  { name: "gate refused, last failure was another revision: recorded", in: { gateAllowed: false, last: { revision: old, outcome: "failed" } }, out: { kind: "refuse", reason: "gate", record: true } },
  { name: "refused even when explicitly asked", in: { gateAllowed: false, explicit: true }, out: { kind: "refuse", reason: "gate", record: true } },
  { name: "refused on a drift job too", in: { job: "drift", gateAllowed: false, good: syncedOld }, out: { kind: "refuse", reason: "gate", record: true } },
  // Auto and manual environments
  { name: "auto, new revision: sync", in: { good: syncedOld }, out: { kind: "sync" } },
  { name: "auto, never synced: sync", in: {}, out: { kind: "sync" } },
  { name: "manual environment, new revision, not asked: nothing", in: { auto: false, good: syncedOld }, out: { kind: "none", why: "manual-environment" } },
  { name: "manual environment, asked (gitward sync / push): sync", in: { auto: false, explicit: true, good: syncedOld }, out: { kind: "sync" } },
  // At the revision
  { name: "at the revision, poll: check drift", in: { good: synced }, out: { kind: "check-drift" } },
  { name: "at the revision, explicitly asked: sync again", in: { good: synced, explicit: true }, out: { kind: "sync" } },
  { name: "at the revision, manual environment: check drift", in: { good: synced, auto: false }, out: { kind: "check-drift" } },
  { name: "drift job at the revision: check drift", in: { job: "drift", good: synced }, out: { kind: "check-drift" } },
  { name: "drift job at the revision, explicit: still a check", in: { job: "drift", good: synced, explicit: true }, out: { kind: "check-drift" } },
  { name: "drift job, manual environment not at the revision: nothing", in: { job: "drift", auto: false, good: syncedOld }, out: { kind: "none", why: "manual-environment" } },
  {
    name: "drift job, auto environment not at the revision: sync after its dependencies", in: { job: "drift", good: syncedOld, dependencies: [{ stack: "db", state: "pending" }] },
    out: { kind: "wait", dependencies: ["db"] }, changed: "before: synced at once, ignoring dependsOn",
  },
  // Drift found
  { name: "no drift: nothing", in: { good: synced, drifted: 0 }, out: { kind: "none", why: "in-sync" } },
  { name: "drift, self-heal: heal", in: { good: synced, drifted: 2, selfHeal: true }, out: { kind: "heal" } },
  { name: "drift, no self-heal: report", in: { good: synced, drifted: 2 }, out: { kind: "report" } },
  { name: "drift while stopping: report, never heal", in: { good: synced, drifted: 1, selfHeal: true, stopping: true }, out: { kind: "report" } },
  // Approval gate (issue 13): new rows, no "before"
  { name: "held by the approval gate: recorded", in: { good: syncedOld, approval: { allowed: false, reason: "prod: waiting for 1 more approval from sre on #4" } }, out: { kind: "hold", reason: "prod: waiting for 1 more approval from sre on #4", record: true } },
  { name: "held again at the same revision: not recorded twice", in: { good: syncedOld, last: { revision: rev, outcome: "skipped" }, approval: { allowed: false, reason: "r" } }, out: { kind: "hold", reason: "r", record: false } },
  { name: "held even when explicitly asked", in: { explicit: true, good: syncedOld, approval: { allowed: false, reason: "r" } }, out: { kind: "hold", reason: "r", record: true } },
  { name: "approved: sync after dependencies", in: { good: syncedOld, approval: { allowed: true, reason: "" }, dependencies: [{ stack: "db", state: "pending" }] }, out: { kind: "wait", dependencies: ["db"] } },
  { name: "held, but already at the revision: drift check (healing needs no approval)", in: { good: synced, approval: { allowed: false, reason: "r" } }, out: { kind: "check-drift" } },
  { name: "held, manual environment not asked: nothing", in: { auto: false, good: syncedOld, approval: { allowed: false, reason: "r" } }, out: { kind: "none", why: "manual-environment" } },
  { name: "gate refusal comes before the approval gate", in: { gateAllowed: false, approval: { allowed: false, reason: "r" } }, out: { kind: "refuse", reason: "gate", record: true } },
  // Dependencies
  { name: "dependency ready: sync", in: { dependencies: [{ stack: "db", state: "ready" }] }, out: { kind: "sync" } },
  { name: "dependency pending: wait", in: { dependencies: [{ stack: "db", state: "ready" }, { stack: "net", state: "pending" }] }, out: { kind: "wait", dependencies: ["net"] } },
  { name: "dependency failed: skip, recorded", in: { dependencies: [{ stack: "db", state: "failed" }] }, out: { kind: "skip", dependency: "db", record: true } },
  { name: "dependency failed, skip already recorded: not twice", in: { dependencies: [{ stack: "db", state: "failed" }], last: { revision: rev, outcome: "skipped" } }, out: { kind: "skip", dependency: "db", record: false } },
  { name: "failed beats pending", in: { dependencies: [{ stack: "net", state: "pending" }, { stack: "db", state: "failed" }] }, out: { kind: "skip", dependency: "db", record: true } },
  {
    name: "push: a failed dependency skips the stack", in: { explicit: true, dependencies: [{ stack: "db", state: "failed" }] },
    out: { kind: "skip", dependency: "db", record: true }, changed: "before: gitward apply reported it failed, the agent skipped",
  },
  // Diff
  { name: "diff shows whatever the gate says", in: { job: "diff", gateAllowed: false }, out: { kind: "show" } },
  { name: "diff of a stack that did not render: refused, not recorded", in: { job: "diff", rendered: false }, out: { kind: "refuse", reason: "render", record: false } },
];

describe("decide: Gate, auto/manual, at-revision, dependencies, drift", () => {
  for (const c of cases) {
    it(`${c.name}${c.changed === undefined ? "" : ` (changed; ${c.changed})`}`, () => {
      assert.deepEqual(decide(input(c.in)), c.out);
    });
  }
});

describe("dependencyState", () => {
  const table: { last: { revision: string; outcome: string; health?: string } | undefined; state: string }[] = [
    { last: undefined, state: "pending" },
    { last: { revision: old, outcome: "succeeded" }, state: "pending" },
    { last: { revision: rev, outcome: "succeeded" }, state: "ready" },
    { last: { revision: rev, outcome: "failed" }, state: "failed" },
    { last: { revision: rev, outcome: "skipped" }, state: "failed" },
    { last: { revision: rev, outcome: "running" }, state: "pending" },
    { last: { revision: rev, outcome: "cancelled" }, state: "pending" },
    { last: { revision: rev, outcome: "succeeded", health: "progressing" }, state: "pending" },
    { last: { revision: rev, outcome: "succeeded", health: "healthy" }, state: "ready" },
    { last: { revision: rev, outcome: "succeeded", health: "degraded" }, state: "failed" },
    { last: { revision: rev, outcome: "succeeded", health: "timed-out" }, state: "failed" },
  ];
  for (const t of table) {
    it(`${t.last === undefined ? "never synced" : `${t.last.outcome}${t.last.health === undefined ? "" : ` (${t.last.health})`} at ${t.last.revision === rev ? "this" : "another"} revision`}: ${t.state}`, () => {
      assert.equal(dependencyState(t.last, rev), t.state);
    });
  }
});
